package dev.gatehouse.gateway.backend.gemini;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.backend.Backend;
import dev.gatehouse.gateway.backend.Providers;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.FinishReason;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.config.ProviderConfig;
import dev.gatehouse.gateway.config.ProviderType;
import dev.gatehouse.gateway.chat.Message;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class GeminiBackendTest {
    static MockGemini mock;
    static Backend backend;

    @BeforeAll
    static void start() throws Exception {
        mock = new MockGemini();
        backend = Providers.backend(new ProviderConfig("gemini", ProviderType.GEMINI, mock.baseUrl(), MockGemini.KEY,
                null, 5_000, Map.of(), ProviderConfig.Prices.NONE));
    }

    @AfterAll
    static void stop() {
        mock.close();
    }

    static ChatRequest request(boolean stream) {
        ChatRequest.Sampling sampling = new ChatRequest.Sampling(0.2f, 1f, 40, 0f, 1f, 0f, 0f, 7L, List.of("END"), false, 0);
        return new ChatRequest("gemini-2.0-flash", List.of(new Message("system", "Be brief."),
                new Message("user", "Hi"), new Message("assistant", "Hello!"), new Message("user", "Again")),
                null, 20, sampling, 1, false, stream, false, null);
    }

    static List<ChatEvent> drain(ChatStream stream) throws InterruptedException {
        List<ChatEvent> events = new ArrayList<>();
        try (stream) {
            for (ChatEvent e; (e = stream.next()) != null; ) {
                events.add(e);
            }
        }
        return events;
    }

    @Test
    void sendsGenerateContentWithTheKeyInAHeader() throws Exception {
        drain(backend.open(request(false)));

        MockGemini.Received r = mock.received().getLast();
        assertEquals("/v1beta/models/gemini-2.0-flash:generateContent", r.path());
        assertEquals(null, r.query(), "the key never goes in the URL, where logs would keep it");
        assertEquals(MockGemini.KEY, r.header("x-goog-api-key"));
        JsonNode body = r.body();
        assertEquals("Be brief.", body.path("systemInstruction").path("parts").get(0).path("text").asText());
        assertEquals(List.of("user", "model", "user"), body.path("contents").findValuesAsText("role"));
        JsonNode config = body.path("generationConfig");
        assertEquals(20, config.path("maxOutputTokens").asInt());
        assertEquals(40, config.path("topK").asInt());
        assertEquals(7, config.path("seed").asLong());
        assertEquals("END", config.path("stopSequences").get(0).asText());
    }

    @Test
    void wholeAnswerBecomesEvents() throws Exception {
        assertEquals(List.of(new ChatEvent.Delta(0, "Hello from Gemini.", null), new ChatEvent.Finish(0, FinishReason.STOP),
                new ChatEvent.Usage(8, 5)), drain(backend.open(request(false))));
    }

    @Test
    void streamBecomesEventsWithUsageLast() throws Exception {
        List<ChatEvent> events = drain(backend.open(request(true)));

        assertEquals("alt=sse", mock.received().getLast().query());
        assertEquals(List.of(new ChatEvent.Delta(0, "Hello", null), new ChatEvent.Delta(0, " from Gemini.", null),
                new ChatEvent.Finish(0, FinishReason.STOP), new ChatEvent.Usage(8, 5)), events);
    }

    @Test
    void streamEndingWithoutFinishReasonIsAnError() throws Exception {
        mock.failNext(MockGemini.Fault.STREAM_CUT);
        ChatStream stream = backend.open(request(true));

        assertEquals(new ChatEvent.Delta(0, "Hello", null), stream.next());
        assertEquals(502, assertThrows(ApiException.class, stream::next).status());
    }

    @Test
    void safetyBecomesContentFilter() throws Exception {
        mock.failNext(MockGemini.Fault.SAFETY);

        assertTrue(drain(backend.open(request(false))).contains(new ChatEvent.Finish(0, FinishReason.CONTENT_FILTER)));
    }

    @Test
    void errorsInOpenAisTerms() {
        mock.failNext(MockGemini.Fault.RATE_LIMITED, MockGemini.Fault.OVERLOADED, MockGemini.Fault.BAD_REQUEST,
                MockGemini.Fault.BAD_KEY);

        assertEquals(429, assertThrows(ApiException.class, () -> backend.open(request(false))).status());
        assertEquals(503, assertThrows(ApiException.class, () -> backend.open(request(false))).status());
        ApiException bad = assertThrows(ApiException.class, () -> backend.open(request(false)));
        assertEquals(400, bad.status());
        assertTrue(bad.getMessage().contains("max_output_tokens must be positive"), bad.getMessage());
        ApiException key = assertThrows(ApiException.class, () -> backend.open(request(false)));
        assertEquals(502, key.status(), "Gemini's 400 for a bad key is Gatehouse's problem, not the client's");
        assertFalse(key.getMessage().contains(MockGemini.KEY));
    }

    @Test
    void inputTokenLimitIsAContextLengthError() {
        mock.failNext(MockGemini.Fault.INPUT_TOO_LONG);

        ApiException e = assertThrows(ApiException.class, () -> backend.open(request(false)));
        assertEquals(400, e.status());
        assertEquals("context_length_exceeded", e.code(), "OpenAI's code, which the router moves on for");
        assertTrue(e.getMessage().contains("exceeds the maximum number of tokens allowed (1048576)"), e.getMessage());
    }

    @Test
    void rateLimitKeepsRetryInfosDelay() {
        mock.failNext(MockGemini.Fault.RATE_LIMITED_RETRY_DELAY);

        ApiException e = assertThrows(ApiException.class, () -> backend.open(request(false)));
        assertEquals(429, e.status());
        assertEquals(1_500L, e.retryAfterMillis(), "RetryInfo's \"1.5s\", to the millisecond for the router's wait");
        assertEquals(2, e.retryAfterSeconds(), "rounded up for the client's Retry-After header");
    }

    @Test
    void whatGeminiCannotDoIsUnsupportedSoAnotherTargetMayServeIt() {
        ChatRequest.Sampling logprobs = new ChatRequest.Sampling(1f, 1f, 0, 0f, 1f, 0f, 0f, null, List.of(), true, 0);
        int before = mock.received().size();

        ApiException e = assertThrows(ApiException.class, () -> backend.open(new ChatRequest("gemini-2.0-flash",
                List.of(new Message("user", "hi")), null, 5, logprobs, 1, false, false, false, null)));
        assertEquals("logprobs", e.param());
        assertTrue(e.isUnsupported(), e.code());
        assertEquals(before, mock.received().size(), "refused before anything is sent");
    }
}
