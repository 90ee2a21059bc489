package dev.gatehouse.serving.text;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The parts of a model folder's {@code tokenizer_config.json} that the serving engine needs.
 *
 * <p>Any field may be null: a missing file gives all nulls. {@code addBosToken}/{@code addEosToken}
 * are null when the file does not say (then the tokenizer.json post-processor decides, as it does
 * in transformers' fast tokenizers).
 *
 * @param chatTemplate the Jinja chat template, or null when the model has none
 * @param bosToken beginning-of-sequence token text
 * @param eosToken end-of-sequence token text
 * @param padToken padding token text
 * @param addBosToken whether the tokenizer adds the bos token, null if unknown
 * @param addEosToken whether the tokenizer adds the eos token, null if unknown
 */
public record TokenizerConfig(
        String chatTemplate,
        String bosToken,
        String eosToken,
        String padToken,
        Boolean addBosToken,
        Boolean addEosToken) {

    static final String CONFIG_FILE = "tokenizer_config.json";
    /** Newer transformers write the template to its own file instead of tokenizer_config.json. */
    static final String TEMPLATE_FILE = "chat_template.jinja";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** Config with nothing set: no template, no special tokens. */
    public static TokenizerConfig empty() {
        return new TokenizerConfig(null, null, null, null, null, null);
    }

    /**
     * Reads {@code tokenizer_config.json} (and {@code chat_template.jinja}, if present) from a
     * model folder.
     *
     * <p>When both carry a template, {@code chat_template.jinja} wins, as in transformers (its
     * loader says: "independent chat template file(s) ... take priority over template entries in
     * the tokenizer config").
     *
     * @throws IllegalArgumentException naming the file when it is not valid JSON
     * @throws UncheckedIOException when a file exists but cannot be read
     */
    public static TokenizerConfig load(Path folder) {
        Path configFile = folder.resolve(CONFIG_FILE);
        JsonNode root = Files.isRegularFile(configFile) ? readJson(configFile) : JSON.createObjectNode();

        String template = chatTemplate(root.get("chat_template"), configFile);
        Path templateFile = folder.resolve(TEMPLATE_FILE);
        if (Files.isRegularFile(templateFile)) {
            template = readString(templateFile);
        }
        return new TokenizerConfig(
                template,
                tokenText(root.get("bos_token")),
                tokenText(root.get("eos_token")),
                tokenText(root.get("pad_token")),
                bool(root.get("add_bos_token")),
                bool(root.get("add_eos_token")));
    }

    private static JsonNode readJson(Path file) {
        try {
            JsonNode node = JSON.readTree(readString(file));
            if (node == null || !node.isObject()) {
                throw new IllegalArgumentException(file + " is not a JSON object");
            }
            return node;
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException(
                    file + " is not valid JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static String readString(Path file) {
        try {
            return Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + file, e);
        }
    }

    /** The field is either a template string or a list of {name, template}: take "default", else the first. */
    private static String chatTemplate(JsonNode node, Path file) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (node.isTextual()) {
            return node.asText();
        }
        if (node.isArray()) {
            JsonNode first = null;
            for (JsonNode entry : node) {
                if ("default".equals(entry.path("name").asText())) {
                    return entry.path("template").asText(null);
                }
                if (first == null) {
                    first = entry;
                }
            }
            return first == null ? null : first.path("template").asText(null);
        }
        throw new IllegalArgumentException(file + ": chat_template is neither a string nor a list");
    }

    /** Special tokens are either plain strings or AddedToken objects {"content": ...}. */
    private static String tokenText(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (node.isTextual()) {
            return node.asText();
        }
        JsonNode content = node.get("content");
        return content != null && content.isTextual() ? content.asText() : null;
    }

    private static Boolean bool(JsonNode node) {
        return node != null && node.isBoolean() ? node.asBoolean() : null;
    }
}
