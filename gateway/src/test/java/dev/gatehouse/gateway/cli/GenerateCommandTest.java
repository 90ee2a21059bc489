package dev.gatehouse.gateway.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.serving.testing.TestModelFolder;
import java.nio.file.Path;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** `gatehouse generate` as a user runs it: by folder or store name, streamed or --json, errors without stack traces. */
class GenerateCommandTest {
    @TempDir
    static Path store;

    @BeforeAll
    static void writeModel() throws Exception {
        TestModelFolder.llama().write(store.resolve("tiny-llama"));
    }

    @Test
    void jsonOutputCarriesTokensAndFinishReason() throws Exception {
        CliRun r = CliRun.run("generate", "--model", "tiny-llama", "--model-store", store.toString(), "--prompt", "t20 t21 t22",
                "--max-tokens", "5", "--temperature", "0", "--json");
        assertEquals(0, r.code(), r.err());
        JsonNode json = new ObjectMapper().readTree(r.out());
        assertEquals(5, json.get("token_ids").size());
        assertEquals(5, json.get("completion_tokens").asInt());
        assertEquals("length", json.get("finish_reason").asText());
        assertTrue(json.get("prompt_token_ids").size() >= 3);
        assertFalse(json.get("text").asText().isEmpty());
    }

    @Test
    void streamsTextThenReportsSpeed() {
        CliRun r = CliRun.run("generate", "--model", store.resolve("tiny-llama").toString(), "--prompt", "t20 t21",
                "--chat", "--max-tokens", "4", "--seed", "7");
        assertEquals(0, r.code(), r.err());
        assertFalse(r.out().isBlank());
        assertTrue(r.err().contains("generated tokens: 4"), r.err());
        assertTrue(r.err().contains("tokens/s"), r.err());
    }

    @Test
    void badInputIsOneClearLine() {
        CliRun missing = CliRun.run("generate", "--model", "no-such-model", "--model-store", store.toString(), "--prompt", "x");
        assertEquals(1, missing.code());
        assertTrue(missing.err().startsWith("error: model 'no-such-model'"), missing.err());
        assertFalse(missing.err().contains("\tat "), "no stack trace");

        CliRun zero = CliRun.run("generate", "--model", "tiny-llama", "--model-store", store.toString(), "--prompt", "x",
                "--max-tokens", "0");
        assertEquals(1, zero.code());
        assertTrue(zero.err().contains("max_tokens"), zero.err());
    }
}
