package dev.gatehouse.gateway.backend.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class OpenAiBackendTest {
    static MockOpenAi mock;
    static Backend backend;

    @BeforeAll
    static void start() throws Exception {
        mock = new MockOpenAi();
        backend = Providers.backend(new ProviderConfig("openai", ProviderType.OPENAI, mock.baseUrl(), MockOpenAi.KEY, null,
                5_000, Map.of("OpenAI-Organization", "org-1"), ProviderConfig.Prices.NONE));
    }

    @AfterAll
    static void stop() {
        mock.close();
    }

    @BeforeEach
    void clearFaults() {
        mock.clearFaults(); // a test that failed half-way leaves no fault for the next
    }

    static ChatRequest request(boolean stream) {
        ChatRequest.Sampling sampling = new ChatRequest.Sampling(0.5f, 1f, 0, 0f, 1f, 0f, 0f, 7L, List.of("END"), false, 0);
        return new ChatRequest("gpt-4o-mini", List.of(new Message("system", "Be brief."), new Message("user", "Hi")),
                null, 12, sampling, 1, false, stream, false, "u-1");
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

    static String text(List<ChatEvent> events) {
        StringBuilder s = new StringBuilder();
        events.stream().filter(e -> e instanceof ChatEvent.Delta).forEach(e -> s.append(((ChatEvent.Delta) e).text()));
        return s.toString();
    }

    @Test
    void sendsTheRequestInOpenAisShapeWithTheKey() throws Exception {
        drain(backend.open(request(false)));

        MockOpenAi.Received r = mock.received().getLast();
        assertEquals("/v1/chat/completions", r.path());
        assertEquals("Bearer " + MockOpenAi.KEY, r.header("Authorization"));
        assertEquals("org-1", r.header("OpenAI-Organization"));
        assertEquals("gpt-4o-mini", r.body().path("model").asText());
        assertEquals("system", r.body().path("messages").get(0).path("role").asText());
        assertEquals("Hi", r.body().path("messages").get(1).path("content").asText());
        assertEquals(12, r.body().path("max_completion_tokens").asInt());
        assertEquals(0.5, r.body().path("temperature").asDouble());
        assertEquals(7, r.body().path("seed").asLong());
        assertEquals("END", r.body().path("stop").get(0).asText());
        assertFalse(r.body().has("top_p"), "defaults are left to the provider");
        assertFalse(r.body().has("stream"));
    }

    @Test
    void aListOfPromptsIsSentAsAList() {
        ChatRequest.Sampling sampling = new ChatRequest.Sampling(1f, 1f, 0, 0f, 1f, 0f, 0f, null, List.of(), false, 0);
        ChatRequest two = new ChatRequest("gpt-3.5-turbo-instruct", null, List.of("Say a", "Say b"), 5, sampling, 2,
                false, false, false, null);
        var body = OpenAiRequestTranslator.body(two, ProviderType.OPENAI);
        assertEquals("[\"Say a\",\"Say b\"]", body.path("prompt").toString());
        assertEquals(2, body.path("n").asInt());
        ChatRequest one = new ChatRequest("gpt-3.5-turbo-instruct", null, List.of("Say a"), 5, sampling, 1,
                false, false, false, null);
        assertEquals("\"Say a\"", OpenAiRequestTranslator.body(one, ProviderType.OPENAI).path("prompt").toString(),
                "one prompt stays a string, as clients sent it before lists were supported");
    }

    @Test
    void wholeAnswerBecomesEvents() throws Exception {
        List<ChatEvent> events = drain(backend.open(request(false)));

        assertEquals(MockOpenAi.REPLY, text(events));
        assertTrue(events.contains(new ChatEvent.Finish(0, FinishReason.STOP)));
        assertEquals(new ChatEvent.Usage(19, 6), events.getLast());
    }

    @Test
    void streamBecomesEventsWithUsageLast() throws Exception {
        List<ChatEvent> events = drain(backend.open(request(true)));

        assertTrue(mock.received().getLast().body().path("stream_options").path("include_usage").asBoolean());
        assertEquals(MockOpenAi.REPLY, text(events));
        assertEquals(new ChatEvent.Finish(0, FinishReason.STOP), events.get(events.size() - 2));
        assertEquals(new ChatEvent.Usage(19, 6), events.getLast());
    }

    @Test
    void clientErrorKeepsOpenAisStatusCodeAndParam() {
        mock.failNext(MockOpenAi.Fault.BAD_REQUEST);
        ApiException e = assertThrows(ApiException.class, () -> backend.open(request(false)));

        assertEquals(400, e.status());
        assertEquals("context_length_exceeded", e.code());
        assertEquals("messages", e.param());
        assertTrue(e.getMessage().startsWith("This model's maximum context length is 128000 tokens."));
    }

    @Test
    void rateLimitKeepsRetryAfter() {
        mock.failNext(MockOpenAi.Fault.RATE_LIMITED);
        ApiException e = assertThrows(ApiException.class, () -> backend.open(request(true)));

        assertEquals(429, e.status());
        assertEquals("rate_limit_exceeded", e.code());
        assertEquals(20, e.retryAfterSeconds());
    }

    @Test
    void refusedKeyIsAGatewayFailureAndNeverQuoted() {
        mock.failNext(MockOpenAi.Fault.BAD_KEY);
        ApiException e = assertThrows(ApiException.class, () -> backend.open(request(false)));

        assertEquals(502, e.status(), "the client's own key to Gatehouse is not the one refused");
        assertFalse(e.getMessage().contains(MockOpenAi.KEY), e.getMessage());
        assertFalse(e.getMessage().contains("sk-"), e.getMessage());
    }

    @Test
    void anyCredentialInAnErrorIsRemovedNotOnlyOurs() {
        mock.failNext(MockOpenAi.Fault.LEAKY_ERROR);
        ApiException e = assertThrows(ApiException.class, () -> backend.open(request(false)));

        assertEquals(400, e.status());
        assertEquals("Invalid upstream credentials *** and Authorization: Bearer *** for model gpt-4o.", e.getMessage());
    }

    @Test
    void serverErrorAndDroppedConnectionAreGatewayFailures() {
        mock.failNext(MockOpenAi.Fault.SERVER_ERROR, MockOpenAi.Fault.CONNECTION_CLOSED);

        assertEquals(500, assertThrows(ApiException.class, () -> backend.open(request(false))).status());
        ApiException closed = assertThrows(ApiException.class, () -> backend.open(request(false)));
        assertEquals(502, closed.status());
        assertEquals("upstream_unavailable", closed.code());
    }

    @Test
    void streamCutBeforeDoneIsAnErrorNotAShortAnswer() throws Exception {
        mock.failNext(MockOpenAi.Fault.STREAM_CUT);
        ChatStream stream = backend.open(request(true));

        assertEquals(new ChatEvent.Delta(0, "Hello", null), stream.next());
        ApiException e = assertThrows(ApiException.class, stream::next);
        assertEquals(502, e.status());
    }

    @Test
    void streamEventThatIsNotJsonIsABadResponse() throws Exception {
        mock.failNext(MockOpenAi.Fault.GARBAGE_AFTER_FIRST_WORD);
        ChatStream stream = backend.open(request(true));

        assertEquals(new ChatEvent.Delta(0, "Hello", null), stream.next());
        ApiException e = assertThrows(ApiException.class, stream::next);
        assertEquals(502, e.status());
        assertEquals("upstream_bad_response", e.code());
    }

    @Test
    void streamThatStallsIsATimeout() throws Exception {
        Backend impatient = Providers.backend(new ProviderConfig("openai", ProviderType.OPENAI, mock.baseUrl(),
                MockOpenAi.KEY, null, 300, Map.of(), ProviderConfig.Prices.NONE));
        mock.failNext(MockOpenAi.Fault.STALL_AFTER_FIRST_WORD);
        ChatStream stream = impatient.open(request(true));

        assertEquals(new ChatEvent.Delta(0, "Hello", null), stream.next());
        long start = System.nanoTime();
        ApiException e = assertThrows(ApiException.class, stream::next);
        assertEquals(504, e.status());
        assertEquals("upstream_timeout", e.code());
        assertTrue(System.nanoTime() - start < MockOpenAi.STALL_MILLIS * 1_000_000 / 2, "gave up at the timeout, not at the end");
    }

    @Test
    void azureNamesTheDeploymentInTheUrlAndSendsTheKeyAsApiKey() throws Exception {
        Backend azure = Providers.backend(new ProviderConfig("azure", ProviderType.AZURE_OPENAI, mock.root(),
                MockOpenAi.KEY, "2024-10-21", 5_000, Map.of(), ProviderConfig.Prices.NONE));

        List<ChatEvent> events = drain(azure.open(request(true).withModel("my-gpt4o")));

        assertEquals(MockOpenAi.REPLY, text(events));
        MockOpenAi.Received r = mock.received().getLast();
        assertEquals("/openai/deployments/my-gpt4o/chat/completions", r.path());
        assertEquals("api-version=2024-10-21", r.query());
        assertEquals(MockOpenAi.KEY, r.header("api-key"));
        assertEquals(null, r.header("Authorization"));
        assertFalse(r.body().has("model"), "the deployment decides the model");
        assertEquals(12, r.body().path("max_tokens").asInt());
    }

    @Test
    void unreachableProviderIsAGatewayFailure() {
        Backend nowhere = Providers.backend(new ProviderConfig("down", ProviderType.OPENAI_COMPATIBLE,
                "http://127.0.0.1:1/v1", null, null, 2_000, Map.of(), ProviderConfig.Prices.NONE));

        ApiException e = assertThrows(ApiException.class, () -> nowhere.open(request(false)));
        assertEquals(502, e.status());
    }

    @Test
    void answerThatStallsAfterItsHeadersIsATimeout() throws Exception {
        // the request timeout ends with the headers: the body needs its own watchdog, whole or streamed
        Backend impatient = Providers.backend(new ProviderConfig("openai", ProviderType.OPENAI, mock.baseUrl(),
                MockOpenAi.KEY, null, 300, Map.of(), ProviderConfig.Prices.NONE));
        mock.failNext(MockOpenAi.Fault.STALL_BEFORE_BODY, MockOpenAi.Fault.STALL_BEFORE_BODY);

        long start = System.nanoTime();
        ApiException whole = assertThrows(ApiException.class, () -> impatient.open(request(false)));
        assertEquals(504, whole.status());
        assertEquals("upstream_timeout", whole.code());
        assertTrue(System.nanoTime() - start < MockOpenAi.STALL_MILLIS * 1_000_000 / 2, "gave up at the timeout, not at the end");

        ChatStream stream = impatient.open(request(true));
        start = System.nanoTime();
        ApiException streamed = assertThrows(ApiException.class, stream::next);
        assertEquals(504, streamed.status());
        assertTrue(System.nanoTime() - start < MockOpenAi.STALL_MILLIS * 1_000_000 / 2, "gave up at the timeout, not at the end");
    }

    @Test
    void vllmExtrasAreUnsupportedByOpenAiItselfSoAnotherTargetMayServeThem() {
        ChatRequest.Sampling topK = new ChatRequest.Sampling(1f, 1f, 40, 0f, 1f, 0f, 0f, null, List.of(), false, 0);
        ApiException e = assertThrows(ApiException.class, () -> backend.open(new ChatRequest("gpt-4o-mini",
                List.of(new Message("user", "hi")), null, 5, topK, 1, false, false, false, null)));

        assertEquals(400, e.status());
        assertEquals("top_k", e.param());
        assertTrue(e.isUnsupported(), e.code());
    }
}
