package dev.gatehouse.gateway.backend.local.tools;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.serving.text.TokenizerConfig;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/** The templates the serving module's tests keep (its test jar): real files as models ship them, and hand-written ones. */
final class RealTemplates {
    private RealTemplates() {}

    /** {@code text/real/FAMILY/tokenizer_config.json}: its template and special tokens. */
    static TokenizerConfig real(String family) {
        try (InputStream in = resource("/text/real/" + family + "/tokenizer_config.json")) {
            JsonNode root = new ObjectMapper().readTree(in);
            return new TokenizerConfig(root.get("chat_template").asText(), token(root, "bos_token"), token(root, "eos_token"),
                    token(root, "pad_token"), null, null);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A hand-written template in the shape of a real one, {@code text/NAME.jinja}. */
    static String shaped(String name) {
        try (InputStream in = resource("/text/" + name + ".jinja")) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static InputStream resource(String path) {
        InputStream in = RealTemplates.class.getResourceAsStream(path);
        if (in == null) {
            throw new IllegalStateException(path + " is not on the test class path (the serving test jar)");
        }
        return in;
    }

    private static String token(JsonNode root, String key) {
        JsonNode v = root.get(key);
        return v == null || v.isNull() ? null : v.isTextual() ? v.asText() : v.path("content").asText(null);
    }
}
