package dev.gatehouse.serving.text;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TokenizerConfigTest {

    @TempDir
    Path dir;

    private TokenizerConfig load(String json) throws IOException {
        Files.writeString(dir.resolve("tokenizer_config.json"), json);
        return TokenizerConfig.load(dir);
    }

    @Test
    void missingFileGivesNothing() {
        assertEquals(TokenizerConfig.empty(), TokenizerConfig.load(dir));
    }

    @Test
    void plainStringsAndFlags() throws IOException {
        TokenizerConfig cfg = load("""
                {"chat_template": "{{ messages }}", "bos_token": "<s>", "eos_token": "</s>",
                 "pad_token": null, "add_bos_token": true, "add_eos_token": false, "model_max_length": 4096}
                """);
        assertEquals(new TokenizerConfig("{{ messages }}", "<s>", "</s>", null, true, false), cfg);
    }

    @Test
    void addedTokenObjects() throws IOException {
        TokenizerConfig cfg = load("""
                {"bos_token": {"__type": "AddedToken", "content": "<|begin_of_text|>", "lstrip": false},
                 "eos_token": {"content": "<|eot_id|>"}, "pad_token": {"content": "<pad>"}}
                """);
        assertEquals("<|begin_of_text|>", cfg.bosToken());
        assertEquals("<|eot_id|>", cfg.eosToken());
        assertEquals("<pad>", cfg.padToken());
        assertNull(cfg.chatTemplate());
        assertNull(cfg.addBosToken(), "absent means unknown");
        assertNull(cfg.addEosToken());
    }

    @Test
    void namedTemplatesPreferDefault() throws IOException {
        TokenizerConfig cfg = load("""
                {"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]}
                """);
        assertEquals("D", cfg.chatTemplate());
        cfg = load("""
                {"chat_template": [{"name": "rag", "template": "R"}, {"name": "tool_use", "template": "T"}]}
                """);
        assertEquals("R", cfg.chatTemplate());
    }

    @Test
    void separateTemplateFile() throws IOException {
        Files.writeString(dir.resolve("chat_template.jinja"), "FROM FILE\n");
        assertEquals("FROM FILE\n", TokenizerConfig.load(dir).chatTemplate(), "works without tokenizer_config.json");
        // As in transformers, the separate file takes priority over the config entry.
        assertEquals("FROM FILE\n", load("{\"chat_template\": \"FROM CONFIG\"}").chatTemplate());
    }

    @Test
    void malformedJsonNamesTheFile() throws IOException {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> load("{\"bos_token\": "));
        assertTrue(e.getMessage().contains(dir.resolve("tokenizer_config.json").toString()), e.getMessage());
    }
}
