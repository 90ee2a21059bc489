package dev.gatehouse.gateway.api.anthropic;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.gateway.backend.anthropic.MockAnthropic;
import dev.gatehouse.gateway.backend.gemini.MockGemini;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.backend.openai.MockOpenAi;
import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.route.Router;
import dev.gatehouse.gateway.server.GatewayServer;
import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.EngineConfig;
import dev.gatehouse.serving.testing.TestModelFolder;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecification;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.exception.ModelNotFoundException;
import dev.langchain4j.model.anthropic.AnthropicChatModel;
import dev.langchain4j.model.anthropic.AnthropicStreamingChatModel;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.json.JsonObjectSchema;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.output.FinishReason;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LangChain4j's Anthropic models (blocking and streaming), configured only with Gatehouse's base URL,
 * against a local model and the mock OpenAI, Anthropic and Gemini providers: text whole and streamed,
 * and a tool round trip.
 */
class LangChain4jAnthropicTest {
    static final String LOCAL = "tiny-llama";
    static final ObjectMapper JSON = new ObjectMapper();
    static final List<String> CLOUD = List.of("gpt", "claude", "gemini");

    @TempDir
    static Path dir;
    static MockOpenAi openai;
    static MockAnthropic anthropic;
    static MockGemini gemini;
    static LocalModels models;
    static GatewayServer server;

    @BeforeAll
    static void start() throws Exception {
        openai = new MockOpenAi();
        anthropic = new MockAnthropic();
        gemini = new MockGemini();
        Path store = dir.resolve("model-store");
        TestModelFolder.llama().write(store.resolve(LOCAL));
        models = new LocalModels();
        GatehouseConfig config = GatehouseConfig.parse("""
                providers:
                  oai: {type: openai, base-url: %s, api-key: sk-x, retries: 0}
                  claude: {type: anthropic, base-url: %s, api-key: sk-ant-MOCK, retries: 0}
                  gem: {type: gemini, base-url: %s, api-key: k, retries: 0}
                models:
                  - name: gpt
                    targets: [{provider: oai, model: gpt-4o-mini}]
                  - name: claude
                    targets: [{provider: claude, model: claude-sonnet-4-5}]
                  - name: gemini
                    targets: [{provider: gem, model: gemini-2.0-flash}]
                """.formatted(openai.baseUrl(), anthropic.baseUrl(), gemini.baseUrl()), Map.of());
        var registry = GatewayServer.newRegistry();
        server = GatewayServer.builder(models, registry).router(Router.of(config, models, registry))
                .maxBodyBytes(1 << 20).grace(Duration.ofSeconds(5)).start();
        models.loadAll(store, DeviceChoice.CPU, EngineConfig.defaults(), registry);
    }

    @AfterAll
    static void stop() {
        server.close();
        models.close();
        openai.close();
        anthropic.close();
        gemini.close();
    }

    private static String baseUrl() {
        return "http://127.0.0.1:" + server.port() + "/v1/";
    }

    private static AnthropicChatModel chatModel(String model) {
        return AnthropicChatModel.builder().baseUrl(baseUrl()).apiKey("any-key").modelName(model).maxTokens(256)
                .temperature(0.0).maxRetries(0).timeout(Duration.ofSeconds(60)).build();
    }

    private static AnthropicStreamingChatModel streamingModel(String model) {
        return AnthropicStreamingChatModel.builder().baseUrl(baseUrl()).apiKey("any-key").modelName(model).maxTokens(256)
                .temperature(0.0).timeout(Duration.ofSeconds(60)).build();
    }

    /** What a streamed chat delivered: the partial texts, and the complete response or the error. */
    record Streamed(List<String> partials, CompletableFuture<ChatResponse> complete) {}

    private static Streamed stream(AnthropicStreamingChatModel model, ChatRequest request) {
        Streamed s = new Streamed(new CopyOnWriteArrayList<>(), new CompletableFuture<>());
        model.chat(request, new StreamingChatResponseHandler() {
            @Override
            public void onPartialResponse(String partial) {
                s.partials().add(partial);
            }

            @Override
            public void onCompleteResponse(ChatResponse response) {
                s.complete().complete(response);
            }

            @Override
            public void onError(Throwable error) {
                s.complete().completeExceptionally(error);
            }
        });
        return s;
    }

    private static ChatRequest say(String text) {
        return ChatRequest.builder().messages(UserMessage.from(text)).build();
    }

    @Test
    void textWholeAndStreamedFromEveryBackend() throws Exception {
        Map<String, String> replies = Map.of("gpt", MockOpenAi.REPLY, "claude", MockAnthropic.REPLY,
                "gemini", "Hello from Gemini.");
        for (String model : CLOUD) {
            ChatResponse whole = chatModel(model).chat(say("Say hello."));
            assertEquals(replies.get(model), whole.aiMessage().text(), model);
            assertEquals(FinishReason.STOP, whole.finishReason(), model);
            assertTrue(whole.tokenUsage().outputTokenCount() > 0, model);

            Streamed s = stream(streamingModel(model), say("Say hello."));
            ChatResponse complete = s.complete().get(60, TimeUnit.SECONDS);
            assertEquals(replies.get(model), String.join("", s.partials()), model);
            assertEquals(replies.get(model), complete.aiMessage().text(), model);
            assertEquals(whole.tokenUsage().outputTokenCount(), complete.tokenUsage().outputTokenCount(), model);
        }
        ChatResponse local = chatModel(LOCAL).chat(say("Say hello."));
        Streamed s = stream(streamingModel(LOCAL), say("Say hello."));
        assertEquals(local.aiMessage().text(), s.complete().get(60, TimeUnit.SECONDS).aiMessage().text(), "greedy");
        assertFalse(local.aiMessage().text().isEmpty());
    }

    @Test
    void aToolRoundTripWholeAndStreamed() throws Exception {
        ToolSpecification weather = ToolSpecification.builder().name("get_weather").description("The current weather in a city.")
                .parameters(JsonObjectSchema.builder().addStringProperty("city").addStringProperty("unit").required("city")
                        .build()).build();
        List<JsonNode> expected = List.of(JSON.readTree("{\"city\":\"Paris\",\"unit\":\"celsius\"}"),
                JSON.readTree("{\"city\":\"Tokyo\",\"unit\":\"celsius\"}"));
        for (String model : CLOUD) {
            ChatRequest ask = ChatRequest.builder().messages(UserMessage.from("Weather in Paris and Tokyo?"))
                    .toolSpecifications(weather).build();
            AiMessage asked = chatModel(model).chat(ask).aiMessage();
            assertEquals(expected, arguments(asked), model);
            AiMessage streamed = stream(streamingModel(model), ask).complete().get(60, TimeUnit.SECONDS).aiMessage();
            assertEquals(expected, arguments(streamed), model);

            List<ChatMessage> history = new ArrayList<>(ask.messages());
            history.add(asked);
            for (ToolExecutionRequest call : asked.toolExecutionRequests()) {
                history.add(ToolExecutionResultMessage.from(call, call.arguments().contains("Paris") ? "sunny, 21°C" : "rainy, 14°C"));
            }
            ChatRequest answer = ChatRequest.builder().messages(history).toolSpecifications(weather).build();
            assertEquals(MockOpenAi.TOOL_ANSWER, chatModel(model).chat(answer).aiMessage().text(), model);
            assertEquals(MockOpenAi.TOOL_ANSWER, stream(streamingModel(model), answer).complete().get(60, TimeUnit.SECONDS)
                    .aiMessage().text(), model);
        }
        JsonNode toClaude = anthropic.received().getLast().body();
        assertEquals("tool_result", toClaude.path("messages").get(2).path("content").get(0).path("type").asText(),
                "LangChain4j's own body, unchanged");
    }

    @Test
    void anUnknownModelIsLangChain4jsModelNotFound() {
        Exception e = assertThrows(Exception.class, () -> chatModel("no-such-model").chat(say("Hi")));
        assertInstanceOf(ModelNotFoundException.class, e, e.toString());
    }

    private static List<JsonNode> arguments(AiMessage m) throws Exception {
        List<JsonNode> out = new ArrayList<>();
        for (ToolExecutionRequest call : m.toolExecutionRequests()) {
            assertEquals("get_weather", call.name());
            assertFalse(call.id().isEmpty());
            out.add(JSON.readTree(call.arguments()));
        }
        return out;
    }
}
