package dev.gatehouse.gateway.api.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.serving.constrain.RealTokenizers;
import dev.gatehouse.serving.testing.TestModelFolder;
import dev.langchain4j.agent.tool.P;
import dev.langchain4j.agent.tool.Tool;
import dev.langchain4j.agent.tool.ToolExecutionRequest;
import dev.langchain4j.agent.tool.ToolSpecifications;
import dev.langchain4j.data.message.AiMessage;
import dev.langchain4j.data.message.ChatMessage;
import dev.langchain4j.data.message.ToolExecutionResultMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.model.chat.Capability;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.request.ToolChoice;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.langchain4j.service.AiServices;
import dev.langchain4j.service.tool.DefaultToolExecutor;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LangChain4j against a local model with Qwen3's real vocabulary and chat template (random weights): an AI
 * service returns a Java record through a json_schema response format, and a {@code @Tool} method is called
 * (a forced tool choice), run by LangChain4j, and its result sent back in a tool-result turn, whole and
 * streamed. Constrained decoding makes the random model's answers ones LangChain4j can read.
 */
class LangChain4jLocalTest {
    @TempDir
    static Path dir;
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(dir, folder -> {
            TestModelFolder.qwen3().vocab(151_936).eosTokenIds(151_645, 151_643).maxPositions(4096)
                    .hidden(32).intermediate(64).layers(1).heads(2).kvHeads(1).tied(true).seed(11).write(folder);
            RealTokenizers.write(RealTokenizers.QWEN3, folder);
        });
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    public enum Sky { CLEAR, CLOUDY, RAIN }

    public enum City { PARIS, OSLO }

    record Forecast(int celsius, boolean windy, Sky sky) {}

    interface Forecaster {
        Forecast forecast(String question);
    }

    /** The application's tool: records what it was asked. */
    static final class WeatherTools {
        final List<String> asked = new CopyOnWriteArrayList<>();

        @Tool("The weather in a city for the next days.")
        String getWeather(@P(name = "city", value = "the city") City city, @P(name = "days", value = "how many days") int days) {
            asked.add(city + " " + days);
            return "sunny, 21 C";
        }
    }

    private static OpenAiChatModel model() {
        return OpenAiChatModel.builder().baseUrl(server.v1()).apiKey("any-key").modelName(TestServer.MODEL)
                .timeout(Duration.ofSeconds(120)).maxRetries(0).maxCompletionTokens(800).seed(3)
                .supportedCapabilities(Capability.RESPONSE_FORMAT_JSON_SCHEMA).strictJsonSchema(true).build();
    }

    @Test
    void anAiServiceReturnsARecord() {
        Forecast forecast = AiServices.create(Forecaster.class, model()).forecast("Weather in Paris tomorrow?");
        assertNotNull(forecast.sky());
    }

    @Test
    void aToolIsCalledRunAndItsResultSentBackWhole() {
        WeatherTools tools = new WeatherTools();
        List<ChatMessage> messages = new ArrayList<>(List.of(UserMessage.from("Weather in Paris for 3 days?")));
        ChatResponse call = model().chat(ChatRequest.builder().messages(messages)
                .toolSpecifications(ToolSpecifications.toolSpecificationsFrom(tools)).toolChoice(ToolChoice.REQUIRED).build());
        answerWithToolResult(tools, messages, call.aiMessage());
    }

    @Test
    void aToolIsCalledRunAndItsResultSentBackStreamed() throws Exception {
        WeatherTools tools = new WeatherTools();
        OpenAiStreamingChatModel streaming = OpenAiStreamingChatModel.builder().baseUrl(server.v1()).apiKey("any-key")
                .modelName(TestServer.MODEL).timeout(Duration.ofSeconds(120)).maxCompletionTokens(800).seed(5).build();
        List<ChatMessage> messages = new ArrayList<>(List.of(UserMessage.from("Weather in Oslo for 2 days?")));
        CompletableFuture<ChatResponse> done = new CompletableFuture<>();
        streaming.chat(ChatRequest.builder().messages(messages).toolSpecifications(ToolSpecifications.toolSpecificationsFrom(tools))
                .toolChoice(ToolChoice.REQUIRED).build(), new StreamingChatResponseHandler() {
                    @Override
                    public void onPartialResponse(String partial) {
                    }

                    @Override
                    public void onCompleteResponse(ChatResponse response) {
                        done.complete(response);
                    }

                    @Override
                    public void onError(Throwable error) {
                        done.completeExceptionally(error);
                    }
                });
        answerWithToolResult(tools, messages, done.get(120, TimeUnit.SECONDS).aiMessage());
    }

    /** Runs the requested call with LangChain4j's executor, sends its result back, and reads a record from the answer. */
    private static void answerWithToolResult(WeatherTools tools, List<ChatMessage> messages, AiMessage call) {
        assertTrue(call.hasToolExecutionRequests(), call.toString());
        ToolExecutionRequest request = call.toolExecutionRequests().get(0);
        assertEquals("getWeather", request.name());
        String result = new DefaultToolExecutor(tools, request).execute(request, null);
        assertEquals(1, tools.asked.size(), "LangChain4j ran the tool with the model's arguments: " + request.arguments());
        messages.add(call);
        messages.add(ToolExecutionResultMessage.from(request, result));
        ChatResponse answer = model().chat(ChatRequest.builder().messages(messages).build());
        assertNotNull(answer.aiMessage());
        assertTrue(answer.tokenUsage().inputTokenCount() > 50, "the tool result reached the template");
    }
}
