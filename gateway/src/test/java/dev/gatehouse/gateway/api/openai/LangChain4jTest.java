package dev.gatehouse.gateway.api.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.langchain4j.data.message.SystemMessage;
import dev.langchain4j.data.message.UserMessage;
import dev.langchain4j.exception.InvalidRequestException;
import dev.langchain4j.exception.ModelNotFoundException;
import dev.langchain4j.model.chat.request.ChatRequest;
import dev.langchain4j.model.chat.response.ChatResponse;
import dev.langchain4j.model.chat.response.StreamingChatResponseHandler;
import dev.langchain4j.model.openai.OpenAiChatModel;
import dev.langchain4j.model.openai.OpenAiStreamingChatModel;
import dev.langchain4j.model.output.FinishReason;
import dev.langchain4j.model.output.TokenUsage;
import dev.gatehouse.serving.text.ChatMessage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** LangChain4j's OpenAI models (blocking and streaming) against Gatehouse, configured only with its base URL. */
class LangChain4jTest {
    private static final String PROMPT = "t20 t21 t22";

    @TempDir
    static Path dir;
    static TestServer server;

    @BeforeAll
    static void start() throws Exception {
        server = TestServer.start(dir);
    }

    @AfterAll
    static void stop() {
        if (server != null) {
            server.close();
        }
    }

    private static OpenAiChatModel chatModel(String model) {
        return OpenAiChatModel.builder().baseUrl(server.v1()).apiKey("any-key").modelName(model)
                .temperature(0.0).maxTokens(6).maxRetries(0).timeout(Duration.ofSeconds(60)).build();
    }

    private static OpenAiStreamingChatModel streamingModel(String model) {
        return OpenAiStreamingChatModel.builder().baseUrl(server.v1()).apiKey("any-key").modelName(model)
                .temperature(0.0).maxTokens(6).timeout(Duration.ofSeconds(60)).build();
    }

    /** What a streamed chat delivered: the partial texts, and the complete response or the error. */
    record Streamed(List<String> partials, CompletableFuture<ChatResponse> complete) {}

    private static Streamed stream(OpenAiStreamingChatModel model, String prompt) {
        Streamed s = new Streamed(new CopyOnWriteArrayList<>(), new CompletableFuture<>());
        model.chat(prompt, new StreamingChatResponseHandler() {
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

    @Test
    void chatReturnsText() {
        OpenAiChatModel model = chatModel(TestServer.MODEL);
        String text = model.chat(PROMPT);
        assertFalse(text.isBlank());

        ChatResponse r = model.chat(ChatRequest.builder()
                .messages(SystemMessage.from("t7"), UserMessage.from(PROMPT)).build());
        assertFalse(r.aiMessage().text().isBlank());
        assertEquals(FinishReason.LENGTH, r.finishReason());
        assertEquals(TestServer.MODEL, r.modelName());
        assertTrue(r.id().startsWith("chatcmpl-"), r.id());
        TokenUsage usage = r.tokenUsage();
        assertEquals(server.chatPromptTokens(List.of(new ChatMessage("system", "t7"), new ChatMessage("user", PROMPT))),
                usage.inputTokenCount());
        assertEquals(6, usage.outputTokenCount());
        assertEquals(usage.inputTokenCount() + 6, usage.totalTokenCount());
    }

    @Test
    void streamingDeliversPartialsThenTheCompleteResponse() throws Exception {
        String blocking = chatModel(TestServer.MODEL).chat(PROMPT);

        Streamed s = stream(streamingModel(TestServer.MODEL), PROMPT);
        ChatResponse complete = s.complete().get(60, TimeUnit.SECONDS);
        assertTrue(s.partials().size() >= 2, "token by token: " + s.partials());
        assertEquals(blocking, String.join("", s.partials()), "greedy: streamed equals blocking");
        assertEquals(blocking, complete.aiMessage().text());
        assertEquals(FinishReason.LENGTH, complete.finishReason());
        assertEquals(TestServer.MODEL, complete.modelName());

        TokenUsage usage = complete.tokenUsage(); // LangChain4j asks for stream_options.include_usage
        assertNotNull(usage, "the usage chunk reached the client");
        assertEquals(server.chatPromptTokens(List.of(new ChatMessage("user", PROMPT))), usage.inputTokenCount());
        assertEquals(6, usage.outputTokenCount());
    }

    @Test
    void errorsMapToLangChain4jExceptions() throws Exception {
        assertThrows(ModelNotFoundException.class, () -> chatModel("no-such-model").chat(PROMPT));

        String tooLong = "t9 ".repeat(server.engine().maxModelLength() + 10);
        assertThrows(InvalidRequestException.class, () -> chatModel(TestServer.MODEL).chat(tooLong));

        Streamed s = stream(streamingModel("no-such-model"), PROMPT);
        Exception e = assertThrows(Exception.class, () -> s.complete().get(60, TimeUnit.SECONDS));
        assertInstanceOf(ModelNotFoundException.class, e.getCause(), "streaming surfaces the 404 too");
        assertTrue(s.partials().isEmpty());
    }
}
