package dev.gatehouse.gateway.route;

import static dev.gatehouse.gateway.route.ToolRequests.askWeather;
import static dev.gatehouse.gateway.route.ToolRequests.calls;
import static dev.gatehouse.gateway.route.ToolRequests.json;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.core.http.StreamResponse;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionAssistantMessageParam;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionContentPart;
import com.openai.models.chat.completions.ChatCompletionContentPartImage;
import com.openai.models.chat.completions.ChatCompletionContentPartText;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessageToolCall;
import com.openai.models.chat.completions.ChatCompletionNamedToolChoice;
import com.openai.models.chat.completions.ChatCompletionToolChoiceOption;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import dev.gatehouse.gateway.backend.gemini.MockGemini;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.server.GatewayServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Tools, images and structured output through a Gemini target, spoken to with the official OpenAI
 * SDK: the mock asserts functionDeclarations with converted schemas, toolConfig, functionCall and
 * functionResponse parts matched by name, inline_data / file_data and responseSchema; Gemini's
 * id-less functionCall parts come back as OpenAI tool calls with stable ids, whole and streamed.
 */
class GeminiToolsEndToEndTest {
    static MockGemini gemini;
    static GatewayServer server;
    static OpenAIClient client;

    @BeforeAll
    static void start() throws Exception {
        gemini = new MockGemini();
        GatehouseConfig config = GatehouseConfig.parse("""
                providers:
                  gemini: {type: gemini, base-url: %s, api-key: gemini-MOCK}
                models:
                  - name: flash
                    targets: [{provider: gemini, model: gemini-2.0-flash}]
                """.formatted(gemini.baseUrl()), Map.of());
        PrometheusMeterRegistry registry = GatewayServer.newRegistry();
        LocalModels none = new LocalModels();
        server = RouteTestGateway.start(none, Router.of(config, none, registry), registry);
        client = RouteTestGateway.sdk(server);
    }

    @AfterAll
    static void stop() {
        RouteTestGateway.stop(client, server);
        gemini.close();
    }

    private static JsonNode lastRequest() {
        return gemini.received().getLast().body();
    }

    /** Each call as [name, arguments], the id apart. */
    private static List<List<String>> namesAndArguments(List<List<String>> calls) {
        return calls.stream().map(c -> List.of(c.get(1), c.get(2))).toList();
    }

    @Test
    void toolsGoAsFunctionDeclarationsAndFunctionCallsComeBackWithStableIds() {
        ChatCompletion c = client.chat().completions().create(askWeather("flash")
                .toolChoice(ChatCompletionToolChoiceOption.Auto.REQUIRED).build());
        List<List<String>> calls = calls(c.choices().getFirst().message().toolCalls().orElseThrow());
        assertEquals(MockGemini.CALLS, namesAndArguments(calls));
        assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, c.choices().getFirst().finishReason());
        assertNotEquals(calls.get(0).get(0), calls.get(1).get(0), "each call has its own id");
        List<List<String>> again = calls(client.chat().completions().create(askWeather("flash").build())
                .choices().getFirst().message().toolCalls().orElseThrow());
        assertEquals(calls, again, "the same answer gets the same ids");

        JsonNode declaration = lastRequest().path("tools").get(0).path("functionDeclarations").get(0);
        assertEquals("get_weather", declaration.path("name").asText());
        assertEquals("The current weather in a city.", declaration.path("description").asText());
        JsonNode parameters = declaration.path("parameters");
        assertEquals("object", parameters.path("type").asText());
        assertEquals(json("[\"celsius\",\"fahrenheit\"]"), parameters.path("properties").path("unit").path("enum"));
        assertTrue(parameters.path("additionalProperties").isMissingNode(), "Gemini's schema has no additionalProperties");
        assertEquals("AUTO", lastRequest().path("toolConfig").path("functionCallingConfig").path("mode").asText());
    }

    @Test
    void aNamedToolChoiceIsAnyWithAllowedFunctionNames() {
        client.chat().completions().create(askWeather("flash").toolChoice(ChatCompletionNamedToolChoice.builder()
                .function(ChatCompletionNamedToolChoice.Function.builder().name("get_weather").build()).build()).build());
        assertEquals(json("{\"mode\":\"ANY\",\"allowedFunctionNames\":[\"get_weather\"]}"),
                lastRequest().path("toolConfig").path("functionCallingConfig"));
        client.chat().completions().create(askWeather("flash").toolChoice(ChatCompletionToolChoiceOption.Auto.NONE).build());
        assertEquals("NONE", lastRequest().path("toolConfig").path("functionCallingConfig").path("mode").asText());
    }

    @Test
    void streamedFunctionCallsAssembleExactly() {
        ChatCompletionAccumulator accumulator = ChatCompletionAccumulator.create();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(askWeather("flash").build())) {
            stream.stream().forEach(accumulator::accumulate);
        }
        ChatCompletion whole = accumulator.chatCompletion();
        assertEquals(MockGemini.CALLS, namesAndArguments(calls(whole.choices().getFirst().message().toolCalls().orElseThrow())));
        assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, whole.choices().getFirst().finishReason());
    }

    @Test
    void aToolConversationSendsFunctionCallsAndResponsesMatchedByName() {
        ChatCompletion first = client.chat().completions().create(askWeather("flash").build());
        List<ChatCompletionMessageToolCall> toolCalls = first.choices().getFirst().message().toolCalls().orElseThrow();
        ChatCompletionCreateParams.Builder next = askWeather("flash")
                .addMessage(ChatCompletionAssistantMessageParam.builder().toolCalls(toolCalls).build());
        next.addMessage(ChatCompletionToolMessageParam.builder().toolCallId(toolCalls.get(0).asFunction().id())
                .content("{\"sky\":\"sunny\",\"celsius\":21}").build());
        next.addMessage(ChatCompletionToolMessageParam.builder().toolCallId(toolCalls.get(1).asFunction().id())
                .content("rainy, 14°C").build());
        ChatCompletion answer = client.chat().completions().create(next.build());
        assertEquals(MockGemini.TOOL_ANSWER, answer.choices().getFirst().message().content().orElseThrow());

        JsonNode contents = lastRequest().path("contents");
        assertEquals(3, contents.size(), "user, model, and one user turn holding both responses");
        JsonNode model = contents.get(1);
        assertEquals("model", model.path("role").asText());
        assertEquals(json("{\"name\":\"get_weather\",\"args\":" + MockGemini.CALLS.get(1).get(1) + "}"),
                model.path("parts").get(1).path("functionCall"));
        JsonNode responses = contents.get(2).path("parts");
        assertEquals("get_weather", responses.get(0).path("functionResponse").path("name").asText());
        assertEquals(json("{\"sky\":\"sunny\",\"celsius\":21}"), responses.get(0).path("functionResponse").path("response"));
        assertEquals(json("{\"result\":\"rainy, 14°C\"}"), responses.get(1).path("functionResponse").path("response"));
    }

    @Test
    void imagesAndAJsonSchema() {
        ChatCompletion c = client.chat().completions().create(ChatCompletionCreateParams.builder().model("flash")
                .addUserMessageOfArrayOfContentParts(List.of(
                        ChatCompletionContentPart.ofText(ChatCompletionContentPartText.builder().text("How warm is it there?").build()),
                        ChatCompletionContentPart.ofImageUrl(ChatCompletionContentPartImage.builder().imageUrl(
                                ChatCompletionContentPartImage.ImageUrl.builder().url(ToolRequests.DATA_URI).build()).build()),
                        ChatCompletionContentPart.ofImageUrl(ChatCompletionContentPartImage.builder().imageUrl(
                                ChatCompletionContentPartImage.ImageUrl.builder().url("https://example.com/paris.png").build()).build())))
                .responseFormat(ToolRequests.answerFormat()).build());
        assertEquals(MockGemini.JSON_REPLY, c.choices().getFirst().message().content().orElseThrow());
        JsonNode parts = lastRequest().path("contents").get(0).path("parts");
        assertEquals("image/png", parts.get(1).path("inline_data").path("mime_type").asText());
        assertEquals(ToolRequests.DATA_URI.substring(ToolRequests.DATA_URI.indexOf(',') + 1),
                parts.get(1).path("inline_data").path("data").asText());
        assertEquals(json("{\"mime_type\":\"image/png\",\"file_uri\":\"https://example.com/paris.png\"}"), parts.get(2).path("file_data"));
        JsonNode config = lastRequest().path("generationConfig");
        assertEquals("application/json", config.path("responseMimeType").asText());
        assertEquals(json(ToolRequests.ANSWER_SCHEMA), config.path("responseSchema"));
    }

    @Test
    void aSchemaKeywordGeminiCannotSayIsA400NamingTheParam() throws Exception {
        try (var http = java.net.http.HttpClient.newHttpClient()) {
            var r = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create("http://127.0.0.1:" + server.port()
                            + "/v1/chat/completions")).header("Content-Type", "application/json")
                    .POST(java.net.http.HttpRequest.BodyPublishers.ofString("""
                            {"model":"flash","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":
                             {"name":"f","parameters":{"type":"object","properties":{"a":{"oneOf":[{"type":"string"},{"type":"number"}]}}}}}]}
                            """)).build(), java.net.http.HttpResponse.BodyHandlers.ofString());
            assertEquals(400, r.statusCode(), r.body());
            assertEquals("tools[0].function.parameters", json(r.body()).path("error").path("param").asText());
        }
    }
}
