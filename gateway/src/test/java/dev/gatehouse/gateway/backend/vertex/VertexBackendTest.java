package dev.gatehouse.gateway.backend.vertex;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.backend.Backend;
import dev.gatehouse.gateway.backend.Providers;
import dev.gatehouse.gateway.backend.anthropic.MockAnthropic;
import dev.gatehouse.gateway.backend.gemini.MockGemini;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.ChatStream;
import dev.gatehouse.gateway.chat.FinishReason;
import dev.gatehouse.gateway.chat.Message;
import dev.gatehouse.gateway.chat.ResponseFormat;
import dev.gatehouse.gateway.config.ProviderConfig;
import dev.gatehouse.gateway.config.ProviderType;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The vertex provider against {@link MockVertex}: Google's auth library really signs a JWT with the
 * service account's key and trades it for an access token at the mock's token endpoint, and the
 * token, paths and bodies of both publishers are checked by the mock on every request.
 */
class VertexBackendTest {
    static final String GEMINI = "gemini-2.5-flash";
    static final String CLAUDE = "claude-sonnet-4@20250514";
    static final ChatRequest.Sampling SAMPLING = new ChatRequest.Sampling(1f, 1f, 0, 0f, 1f, 0f, 0f, null, List.of(), false, 0);
    static MockVertex mock;

    @BeforeAll
    static void start() throws Exception {
        mock = new MockVertex();
    }

    @AfterAll
    static void stop() {
        mock.close();
    }

    @BeforeEach
    void clear() {
        mock.clearFaults();
    }

    /** A fresh provider: its own token, fetched on first use. */
    static Backend backend(String credentialsJson) {
        return Providers.backend(new ProviderConfig("vertex", ProviderType.VERTEX, mock.baseUrl(), null, null, 5_000, Map.of(),
                ProviderConfig.Prices.NONE, ProviderConfig.Failures.DEFAULT, null, false,
                new ProviderConfig.Gcp(MockVertex.PROJECT, MockVertex.LOCATION, credentialsJson.getBytes(StandardCharsets.UTF_8))));
    }

    static Backend backend() {
        return backend(mock.serviceAccountJson());
    }

    static ChatRequest request(String model, boolean stream) {
        return new ChatRequest(model, List.of(new Message("system", "Be brief."), new Message("user", "Hi")),
                null, 20, SAMPLING, 1, false, stream, false, null);
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

    private static String path(String publisher, String model, String method) {
        return "/v1/projects/" + MockVertex.PROJECT + "/locations/" + MockVertex.LOCATION + "/publishers/" + publisher
                + "/models/" + model + ":" + method;
    }

    @Test
    void geminiWholeAndStreamedWithABearerTokenFromTheServiceAccount() throws Exception {
        Backend backend = backend();
        int grants = mock.grants();

        assertEquals(List.of(new ChatEvent.Delta(0, "Hello from Gemini.", null), new ChatEvent.Finish(0, FinishReason.STOP),
                new ChatEvent.Usage(8, 5)), drain(backend.open(request(GEMINI, false))));
        MockVertex.Received whole = mock.received().getLast();
        assertEquals(path("google", GEMINI, "generateContent"), whole.path());
        assertTrue(whole.authorization().startsWith("Bearer ya29.mock-token-"), whole.authorization());
        assertEquals("Be brief.", whole.body().path("systemInstruction").path("parts").get(0).path("text").asText());

        assertEquals(List.of(new ChatEvent.Delta(0, "Hello", null), new ChatEvent.Delta(0, " from Gemini.", null),
                new ChatEvent.Finish(0, FinishReason.STOP), new ChatEvent.Usage(8, 5)), drain(backend.open(request(GEMINI, true))));
        MockVertex.Received streamed = mock.received().getLast();
        assertEquals(path("google", GEMINI, "streamGenerateContent"), streamed.path());
        assertEquals("alt=sse", streamed.query());
        assertEquals(whole.authorization(), streamed.authorization(), "one token for both");
        assertEquals(grants + 1, mock.grants(), "the token is kept, not fetched per request");
    }

    @Test
    void claudeRawPredictWithAnthropicVersionAndNoModelInTheBody() throws Exception {
        Backend backend = backend();

        assertEquals(List.of(new ChatEvent.Delta(0, MockAnthropic.REPLY, null), new ChatEvent.Finish(0, FinishReason.STOP)),
                drain(backend.open(request(CLAUDE, false))).subList(0, 2));
        MockVertex.Received whole = mock.received().getLast();
        assertEquals(path("anthropic", CLAUDE, "rawPredict"), whole.path());
        assertEquals("vertex-2023-10-16", whole.body().path("anthropic_version").asText());
        assertFalse(whole.body().has("model"), "the model is in the path");
        assertEquals("Be brief.", whole.body().path("system").asText());

        List<ChatEvent> events = drain(backend.open(request(CLAUDE, true)));
        assertEquals(path("anthropic", CLAUDE, "streamRawPredict"), mock.received().getLast().path());
        assertEquals(MockAnthropic.REPLY, events.stream().filter(e -> e instanceof ChatEvent.Delta)
                .map(e -> ((ChatEvent.Delta) e).text()).reduce("", String::concat));
        assertTrue(events.contains(new ChatEvent.Finish(0, FinishReason.STOP)), events.toString());
        assertTrue(events.getLast() instanceof ChatEvent.Usage, events.toString());
    }

    @Test
    void claudeContinuesAFinalAssistantMessageAndGeminiDoesNot() {
        assertTrue(backend().prefills(CLAUDE), "mid-stream failover hands Claude the partial answer as a prefill");
        assertFalse(backend().prefills(GEMINI));
    }

    @Test
    void anExplicitPublisherPrefixChoosesThePublisher() throws Exception {
        drain(backend().open(request("anthropic/" + CLAUDE, false)));
        assertEquals(path("anthropic", CLAUDE, "rawPredict"), mock.received().getLast().path());
        drain(backend().open(request("google/" + GEMINI, false)));
        assertEquals(path("google", GEMINI, "generateContent"), mock.received().getLast().path());
    }

    @Test
    void aModelIdThatCouldLeaveThePathIsRefusedBeforeAnythingIsSent() {
        int before = mock.received().size();
        for (String model : List.of("../../other-project/x", "meta/llama-3", "gemini?alt=json", "google/a b")) {
            ApiException e = assertThrows(ApiException.class, () -> backend().open(request(model, false)), model);
            assertEquals(400, e.status(), model);
            assertEquals("model", e.param(), model);
        }
        assertEquals(before, mock.received().size());
    }

    @Test
    void aTokenAboutToExpireIsReplacedBeforeItIsUsedAgain() throws Exception {
        Backend backend = backend();
        mock.nextTokenLifetimes(1); // inside the library's refresh margin: stale at once
        int grants = mock.grants();

        drain(backend.open(request(GEMINI, false)));
        String first = mock.received().getLast().authorization();
        drain(backend.open(request(GEMINI, false)));
        String second = mock.received().getLast().authorization();
        drain(backend.open(request(CLAUDE, false)));
        String third = mock.received().getLast().authorization();

        assertNotEquals(first, second, "the short-lived token was replaced");
        assertEquals(second, third, "the fresh one (an hour) is kept");
        assertEquals(grants + 2, mock.grants());
    }

    @Test
    void aRefusedGrantOrABadSignatureIsGatehousesProblemAndLeaksNothing() throws Exception {
        mock.failNext(MockVertex.Fault.GRANT_REFUSED);
        ApiException refused = assertThrows(ApiException.class, () -> backend().open(request(GEMINI, false)));
        assertEquals(502, refused.status());
        assertEquals("upstream_auth_failed", refused.code(), "the router moves on");

        int before = mock.received().size();
        ApiException forged = assertThrows(ApiException.class,
                () -> backend(mock.serviceAccountJsonWithAnotherKey()).open(request(GEMINI, false)));
        assertEquals("upstream_auth_failed", forged.code(), "the mock checks the JWT's signature");
        assertEquals(before, mock.received().size(), "no request goes out without a token");
        assertFalse(forged.getMessage().contains("PRIVATE KEY"), forged.getMessage());
    }

    @Test
    void aRevokedTokenIsReplacedAfterVertexRefusesIt() throws Exception {
        Backend backend = backend();
        drain(backend.open(request(GEMINI, false)));
        mock.failNext(MockVertex.Fault.TOKENS_REVOKED);

        ApiException refused = assertThrows(ApiException.class, () -> backend.open(request(GEMINI, false)));
        assertEquals("upstream_auth_failed", refused.code(), "401: Gatehouse's credentials, not the client's request");
        int grants = mock.grants();
        assertEquals(MockAnthropic.REPLY, ((ChatEvent.Delta) drain(backend.open(request(CLAUDE, false))).getFirst()).text(),
                "the next request gets a new token instead of the revoked one until it expires");
        assertEquals(grants + 1, mock.grants());
    }

    @Test
    void vertexErrorsMapLikeGeminisAndAnthropics() {
        Backend backend = backend();
        mock.failNext(MockVertex.Fault.QUOTA_EXHAUSTED);
        ApiException quota = assertThrows(ApiException.class, () -> backend.open(request(CLAUDE, true)));
        assertEquals(429, quota.status(), "Vertex's RESOURCE_EXHAUSTED for a Claude model");
        assertEquals("rate_limit_exceeded", quota.code());
        mock.failNext(MockVertex.Fault.UNAVAILABLE);
        assertEquals(503, assertThrows(ApiException.class, () -> backend.open(request(GEMINI, false))).status());
        mock.gemini().failNext(MockGemini.Fault.RATE_LIMITED_RETRY_DELAY);
        assertEquals(1_500L, assertThrows(ApiException.class, () -> backend.open(request(GEMINI, false))).retryAfterMillis(),
                "RetryInfo's delay, as from Gemini");
        mock.anthropic().failNext(MockAnthropic.Fault.RATE_LIMITED);
        assertEquals(7_000L, assertThrows(ApiException.class, () -> backend.open(request(CLAUDE, false))).retryAfterMillis(),
                "Retry-After, as from Anthropic");
        mock.anthropic().failNext(MockAnthropic.Fault.OVERLOADED);
        assertEquals(503, assertThrows(ApiException.class, () -> backend.open(request(CLAUDE, false))).status());
    }

    @Test
    void tooLongPromptsAreContextLengthErrorsForBothPublishers() {
        Backend backend = backend();
        mock.gemini().failNext(MockGemini.Fault.INPUT_TOO_LONG);
        mock.anthropic().failNext(MockAnthropic.Fault.PROMPT_TOO_LONG);
        for (String model : List.of(GEMINI, CLAUDE)) {
            ApiException e = assertThrows(ApiException.class, () -> backend.open(request(model, false)));
            assertEquals(400, e.status(), model);
            assertEquals("context_length_exceeded", e.code(), model);
        }
    }

    @Test
    void claudeHasNoJsonObjectModeSoItIsUnsupportedForTheRouterToPassOn() {
        ChatRequest json = new ChatRequest(CLAUDE, List.of(new Message("user", "Hi")), null, 20, SAMPLING, 1, false, false,
                false, null, List.of(), null, null, ResponseFormat.JSON_OBJECT, Map.of());
        ApiException e = assertThrows(ApiException.class, () -> backend().open(json));
        assertTrue(e.isUnsupported(), e.code());
        assertEquals("response_format", e.param());
    }

    @Test
    void anExpiredOrMissingTokenIsRefusedByTheMock() throws Exception {
        // the mock's own check, which the tests above rely on: it answers 401 to a token it did not issue
        JsonNode refused = new com.fasterxml.jackson.databind.ObjectMapper().readTree(java.net.http.HttpClient.newHttpClient()
                .send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(mock.baseUrl() + path("google", GEMINI, "generateContent")))
                        .header("Authorization", "Bearer ya29.forged").POST(java.net.http.HttpRequest.BodyPublishers.ofString("{}")).build(),
                        java.net.http.HttpResponse.BodyHandlers.ofString()).body());
        assertEquals("UNAUTHENTICATED", refused.path("error").path("status").asText());
    }
}
