package dev.gatehouse.gateway.route;

import static dev.gatehouse.gateway.route.ToolRequests.askWeather;
import static dev.gatehouse.gateway.route.ToolRequests.calls;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.openai.client.OpenAIClient;
import com.openai.core.http.StreamResponse;
import com.openai.errors.RateLimitException;
import com.openai.helpers.ChatCompletionAccumulator;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionAssistantMessageParam;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionContentPart;
import com.openai.models.chat.completions.ChatCompletionContentPartImage;
import com.openai.models.chat.completions.ChatCompletionContentPartText;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionMessageToolCall;
import com.openai.models.chat.completions.ChatCompletionToolMessageParam;
import dev.gatehouse.gateway.backend.anthropic.MockAnthropic;
import dev.gatehouse.gateway.backend.gemini.MockGemini;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.backend.vertex.MockVertex;
import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.server.GatewayServer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Gemini and Claude on Vertex AI through Gatehouse, spoken to with the official OpenAI SDK: a
 * gatehouse.yaml vertex provider with a service-account key file, whole and streamed answers, tool
 * conversations and images, and Vertex's quota error, against {@link MockVertex}.
 */
class VertexEndToEndTest {
    static MockVertex vertex;
    static GatewayServer server;
    static OpenAIClient client;

    @BeforeAll
    static void start(@TempDir Path dir) throws Exception {
        vertex = new MockVertex();
        Path key = Files.writeString(dir.resolve("service-account.json"), vertex.serviceAccountJson());
        GatehouseConfig config = GatehouseConfig.parse("""
                providers:
                  vertex: {type: vertex, location: %s, credentials-file: %s, base-url: %s, retries: 0}
                models:
                  - name: gemini
                    targets: [{provider: vertex, model: gemini-2.5-flash}]
                  - name: claude
                    targets: [{provider: vertex, model: claude-sonnet-4@20250514}]
                  - name: claude-or-gemini
                    targets: [{provider: vertex, model: claude-sonnet-4@20250514}, {provider: vertex, model: gemini-2.5-flash}]
                """.formatted(MockVertex.LOCATION, key, vertex.baseUrl()), Map.of());
        PrometheusMeterRegistry registry = GatewayServer.newRegistry();
        LocalModels none = new LocalModels();
        server = RouteTestGateway.start(none, Router.of(config, none, registry), registry);
        client = RouteTestGateway.sdk(server);
    }

    @AfterAll
    static void stop() {
        RouteTestGateway.stop(client, server);
        vertex.close();
    }

    private static String reply(String model) {
        return model.equals("gemini") ? "Hello from Gemini." : MockAnthropic.REPLY;
    }

    private static String toolAnswer(String model) {
        return model.equals("gemini") ? MockGemini.TOOL_ANSWER : MockAnthropic.TOOL_ANSWER;
    }

    private static JsonNode lastBody() {
        return vertex.received().getLast().body();
    }

    @ParameterizedTest
    @ValueSource(strings = {"gemini", "claude"})
    void wholeAndStreamedAnswers(String model) {
        ChatCompletionCreateParams params = ChatCompletionCreateParams.builder().model(model).addUserMessage("Say hello.").build();
        ChatCompletion whole = client.chat().completions().create(params);
        assertEquals(reply(model), whole.choices().getFirst().message().content().orElseThrow());
        assertTrue(whole.usage().orElseThrow().totalTokens() > 0);
        assertTrue(vertex.received().getLast().authorization().startsWith("Bearer ya29."));

        try (StreamResponse<ChatCompletionChunk> chunks = client.chat().completions().createStreaming(params)) {
            assertEquals(reply(model), chunks.stream().flatMap(c -> c.choices().stream())
                    .map(c -> c.delta().content().orElse("")).collect(Collectors.joining()));
        }
        assertTrue(vertex.received().getLast().path().endsWith(model.equals("gemini") ? ":streamGenerateContent" : ":streamRawPredict"));
    }

    @ParameterizedTest
    @ValueSource(strings = {"gemini", "claude"})
    void aToolConversationWholeAndStreamed(String model) {
        ChatCompletionAccumulator accumulator = ChatCompletionAccumulator.create();
        try (StreamResponse<ChatCompletionChunk> stream = client.chat().completions().createStreaming(askWeather(model).build())) {
            stream.stream().forEach(accumulator::accumulate);
        }
        List<ChatCompletionMessageToolCall> streamed = accumulator.chatCompletion().choices().getFirst().message().toolCalls().orElseThrow();
        ChatCompletion first = client.chat().completions().create(askWeather(model).build());
        List<ChatCompletionMessageToolCall> toolCalls = first.choices().getFirst().message().toolCalls().orElseThrow();
        assertEquals(ChatCompletion.Choice.FinishReason.TOOL_CALLS, first.choices().getFirst().finishReason());
        List<List<String>> expected = model.equals("gemini") ? MockGemini.CALLS
                : MockAnthropic.CALLS.stream().map(c -> c.subList(1, 3)).toList();
        assertEquals(expected, calls(toolCalls).stream().map(c -> c.subList(1, 3)).toList());
        assertEquals(expected, calls(streamed).stream().map(c -> c.subList(1, 3)).toList(), "streamed calls assemble the same");

        ChatCompletionCreateParams.Builder next = askWeather(model)
                .addMessage(ChatCompletionAssistantMessageParam.builder().toolCalls(toolCalls).build());
        next.addMessage(ChatCompletionToolMessageParam.builder().toolCallId(toolCalls.get(0).asFunction().id())
                .content("{\"sky\":\"sunny\",\"celsius\":21}").build());
        next.addMessage(ChatCompletionToolMessageParam.builder().toolCallId(toolCalls.get(1).asFunction().id())
                .content("rainy, 14°C").build());
        assertEquals(toolAnswer(model), client.chat().completions().create(next.build()).choices().getFirst().message()
                .content().orElseThrow());
        JsonNode body = lastBody();
        if (model.equals("gemini")) {
            assertEquals("get_weather", body.path("contents").get(2).path("parts").get(0).path("functionResponse").path("name").asText());
        } else {
            JsonNode results = body.path("messages").get(2).path("content");
            assertEquals("tool_result", results.get(0).path("type").asText());
            assertEquals(toolCalls.get(1).asFunction().id(), results.get(1).path("tool_use_id").asText());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"gemini", "claude"})
    void imagesReachTheModel(String model) {
        client.chat().completions().create(ChatCompletionCreateParams.builder().model(model)
                .addUserMessageOfArrayOfContentParts(List.of(
                        ChatCompletionContentPart.ofText(ChatCompletionContentPartText.builder().text("What is this?").build()),
                        ChatCompletionContentPart.ofImageUrl(ChatCompletionContentPartImage.builder().imageUrl(
                                ChatCompletionContentPartImage.ImageUrl.builder().url(ToolRequests.DATA_URI).build()).build())))
                .build());
        String data = ToolRequests.DATA_URI.substring(ToolRequests.DATA_URI.indexOf(',') + 1);
        if (model.equals("gemini")) {
            JsonNode image = lastBody().path("contents").get(0).path("parts").get(1).path("inline_data");
            assertEquals("image/png", image.path("mime_type").asText());
            assertEquals(data, image.path("data").asText());
        } else {
            JsonNode source = lastBody().path("messages").get(0).path("content").get(1).path("source");
            assertEquals("base64", source.path("type").asText());
            assertEquals("image/png", source.path("media_type").asText());
            assertEquals(data, source.path("data").asText());
        }
    }

    @Test
    void anUnavailableModelFallsBackToTheNextTarget() {
        vertex.failNext(MockVertex.Fault.UNAVAILABLE);
        var response = client.chat().completions().withRawResponse()
                .create(ChatCompletionCreateParams.builder().model("claude-or-gemini").addUserMessage("Hi").build());
        assertEquals("Hello from Gemini.", response.parse().choices().getFirst().message().content().orElseThrow());
        assertEquals(List.of("vertex:claude-sonnet-4@20250514 (503)"), response.headers().values("x-gatehouse-fallbacks"));
    }

    @Test
    void vertexQuotaIsARateLimitForTheClient() {
        vertex.failNext(MockVertex.Fault.QUOTA_EXHAUSTED);
        RateLimitException e = org.junit.jupiter.api.Assertions.assertThrows(RateLimitException.class, () ->
                client.chat().completions().create(ChatCompletionCreateParams.builder().model("claude").addUserMessage("Hi").build()));
        assertEquals("rate_limit_exceeded", e.code().orElseThrow());
        assertTrue(e.getMessage().contains("Quota exceeded"), e.getMessage());
    }
}
