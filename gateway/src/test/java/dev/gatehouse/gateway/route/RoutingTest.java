package dev.gatehouse.gateway.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.openai.client.OpenAIClient;
import com.openai.core.http.HttpResponseFor;
import com.openai.core.http.StreamResponse;
import com.openai.errors.BadRequestException;
import com.openai.models.chat.completions.ChatCompletion;
import com.openai.models.chat.completions.ChatCompletionChunk;
import com.openai.models.chat.completions.ChatCompletionCreateParams;
import com.openai.models.chat.completions.ChatCompletionStreamOptions;
import dev.gatehouse.gateway.backend.anthropic.MockAnthropic;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.chat.ChatRequest;
import dev.gatehouse.gateway.chat.Message;
import dev.gatehouse.gateway.backend.openai.MockOpenAi;
import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.server.GatewayServer;
import dev.gatehouse.serving.engine.Capacity;
import dev.gatehouse.serving.engine.DeviceChoice;
import dev.gatehouse.serving.engine.Engine;
import dev.gatehouse.serving.engine.EngineConfig;
import dev.gatehouse.serving.engine.RequestHandle;
import dev.gatehouse.serving.sample.SamplingParams;
import dev.gatehouse.serving.testing.TestModelFolder;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Gatehouse between the official OpenAI SDK and a tiny local model plus two mock OpenAI providers:
 * who answers, and what the client sees when a provider fails.
 */
class RoutingTest {
    private static final String LOCAL = "tiny-llama";
    private static final String BACKUP_KEY = "sk-backup-SECRET-zyxwvutsrqponm9876543210";

    @TempDir
    static Path dir;
    static MockOpenAi openai;
    static MockOpenAi backup;
    static MockAnthropic anthropic;
    static LocalModels models;
    static GatewayServer server;
    static OpenAIClient client;
    static final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeAll
    static void start() throws Exception {
        openai = new MockOpenAi();
        backup = new MockOpenAi();
        anthropic = new MockAnthropic();
        Path store = dir.resolve("model-store");
        TestModelFolder.llama().write(store.resolve(LOCAL));
        PrometheusMeterRegistry registry = GatewayServer.newRegistry();
        models = new LocalModels();
        // one running, one waiting, and a sequence nobody reads pauses after 4 tokens: easy to saturate
        models.loadAll(store, DeviceChoice.CPU, EngineConfig.defaults().withMaxRunning(1).withMaxWaiting(1)
                .withMaxPendingEvents(4), registry);
        GatehouseConfig config = GatehouseConfig.parse("""
                providers:
                  openai: {type: openai, base-url: %s, api-key: ${OPENAI_API_KEY}, timeout-ms: 1000}
                  backup: {type: openai-compatible, base-url: %s, api-key: ${BACKUP_KEY}}
                  claude: {type: anthropic, base-url: https://api.anthropic.com, api-key: ${ANTHROPIC_API_KEY}}
                  anthropic: {type: anthropic, base-url: %s, api-key: ${MOCK_ANTHROPIC_KEY}}
                models:
                  - name: chat
                    targets:
                      - local: tiny-llama
                      - provider: openai
                        model: gpt-4o-mini
                    spill: {max-queue-wait-ms: 600000}
                  - name: cloud
                    targets:
                      - provider: openai
                        model: gpt-4o-mini
                      - provider: backup
                        model: backup-model
                  - name: haiku
                    targets:
                      - provider: anthropic
                        model: claude-3-5-haiku-latest
                      - provider: openai
                        model: gpt-4o-mini
                  - name: claudes
                    targets:
                      - provider: anthropic
                        model: claude-3-5-haiku-latest
                      - provider: anthropic
                        model: claude-3-7-sonnet-latest
                """.formatted(openai.baseUrl(), backup.baseUrl(), anthropic.baseUrl()),
                Map.of("OPENAI_API_KEY", MockOpenAi.KEY, "BACKUP_KEY", BACKUP_KEY, "MOCK_ANTHROPIC_KEY", MockAnthropic.KEY));
        // breakers that never open here: each test's faults must not decide the next test's targets
        server = RouteTestGateway.start(models, Router.of(config, models, 1_000, 60_000, registry), registry);
        client = RouteTestGateway.sdk(server);
    }

    @AfterAll
    static void stop() {
        RouteTestGateway.stop(client, server);
        openai.close();
        backup.close();
        anthropic.close();
    }

    @BeforeEach
    void clearFaults() {
        openai.clearFaults(); // a test that failed half-way leaves no fault for the next
        backup.clearFaults();
        anthropic.clearFaults();
    }

    private static ChatCompletionCreateParams params(String model) {
        return ChatCompletionCreateParams.builder().model(model).addUserMessage("t20 t21 t22").maxCompletionTokens(5).build();
    }

    private static String header(HttpResponseFor<?> response, String name) {
        List<String> values = response.headers().values(name);
        return values.isEmpty() ? null : values.get(0);
    }

    @Test
    void providerOnlyModelIsAnsweredByTheProvider() {
        try (HttpResponseFor<ChatCompletion> response = client.chat().completions().withRawResponse().create(params("cloud"))) {
            ChatCompletion completion = response.parse();

            assertEquals(MockOpenAi.REPLY, completion.choices().get(0).message().content().orElseThrow());
            assertEquals(19, completion.usage().orElseThrow().promptTokens());
            assertEquals("cloud", completion.model(), "the client's own name for the model");
            assertEquals("openai:gpt-4o-mini", header(response, "x-gatehouse-backend"));
            assertEquals(null, header(response, "x-gatehouse-fallbacks"));
        }
        MockOpenAi.Received r = openai.received().getLast();
        assertEquals("gpt-4o-mini", r.body().path("model").asText(), "the provider hears its own model name");
        assertEquals("Bearer " + MockOpenAi.KEY, r.header("Authorization"), "Gatehouse's key, not the client's");
    }

    @Test
    void providerOnlyModelStreams() {
        try (HttpResponseFor<StreamResponse<ChatCompletionChunk>> response =
                     client.chat().completions().withRawResponse().createStreaming(params("cloud"));
             StreamResponse<ChatCompletionChunk> stream = response.parse()) {
            String text = stream.stream().flatMap(c -> c.choices().stream())
                    .map(c -> c.delta().content().orElse("")).collect(Collectors.joining());

            assertEquals(MockOpenAi.REPLY, text);
            assertEquals("openai:gpt-4o-mini", header(response, "x-gatehouse-backend"));
        }
    }

    @Test
    void providerSlashModelGoesStraightToTheProvider() {
        try (HttpResponseFor<ChatCompletion> response =
                     client.chat().completions().withRawResponse().create(params("backup/some-model"))) {
            assertEquals(MockOpenAi.REPLY, response.parse().choices().get(0).message().content().orElseThrow());
            assertEquals("backup:some-model", header(response, "x-gatehouse-backend"));
        }
        assertEquals("some-model", backup.received().getLast().body().path("model").asText());
    }

    @Test
    void serverErrorFallsBackToTheNextTarget() {
        openai.failNext(MockOpenAi.Fault.SERVER_ERROR);
        try (HttpResponseFor<ChatCompletion> response = client.chat().completions().withRawResponse().create(params("cloud"))) {
            assertEquals(MockOpenAi.REPLY, response.parse().choices().get(0).message().content().orElseThrow());
            assertEquals("backup:backup-model", header(response, "x-gatehouse-backend"));
            assertEquals("openai:gpt-4o-mini (500)", header(response, "x-gatehouse-fallbacks"));
        }
        assertEquals("Bearer " + BACKUP_KEY, backup.received().getLast().header("Authorization"));
    }

    @Test
    void rateLimitAndDroppedConnectionFallBackWhileStreaming() {
        for (MockOpenAi.Fault fault : List.of(MockOpenAi.Fault.RATE_LIMITED, MockOpenAi.Fault.CONNECTION_CLOSED)) {
            openai.failNext(fault);
            try (HttpResponseFor<StreamResponse<ChatCompletionChunk>> response =
                         client.chat().completions().withRawResponse().createStreaming(params("cloud"));
                 StreamResponse<ChatCompletionChunk> stream = response.parse()) {
                String text = stream.stream().flatMap(c -> c.choices().stream())
                        .map(c -> c.delta().content().orElse("")).collect(Collectors.joining());

                assertEquals(MockOpenAi.REPLY, text, fault.name());
                assertEquals("backup:backup-model", header(response, "x-gatehouse-backend"), fault.name());
                assertEquals("openai:gpt-4o-mini (" + (fault == MockOpenAi.Fault.RATE_LIMITED ? 429 : 502) + ")",
                        header(response, "x-gatehouse-fallbacks"), fault.name());
            }
        }
    }

    @Test
    void streamThatStallsBeforeItsFirstWordFallsBack() {
        openai.failNext(MockOpenAi.Fault.STALL_AT_START);
        try (HttpResponseFor<StreamResponse<ChatCompletionChunk>> response =
                     client.chat().completions().withRawResponse().createStreaming(params("cloud"));
             StreamResponse<ChatCompletionChunk> stream = response.parse()) {
            String text = stream.stream().flatMap(c -> c.choices().stream())
                    .map(c -> c.delta().content().orElse("")).collect(Collectors.joining());

            assertEquals(MockOpenAi.REPLY, text);
            assertEquals("backup:backup-model", header(response, "x-gatehouse-backend"));
            assertEquals("openai:gpt-4o-mini (504)", header(response, "x-gatehouse-fallbacks"));
        }
    }

    @Test
    void failureAfterTheFirstWordIsContinuedByTheNextTargetOnTheSameStream() throws Exception {
        int backupCalls = backup.received().size();
        openai.failNext(MockOpenAi.Fault.STREAM_CUT);

        HttpResponse<String> response = post("{\"model\":\"cloud\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertEquals(200, response.statusCode(), "the headers went out with the first word");
        assertEquals("openai:gpt-4o-mini", response.headers().firstValue("x-gatehouse-backend").orElseThrow());
        assertTrue(response.body().contains("\"content\":\"Hello\""), response.body());
        assertFalse(response.body().contains("\"error\""), "mid-stream failover: no error event " + response.body());
        assertEquals(1, response.body().split("\"finish_reason\":\"stop\"", -1).length - 1, "one finish: " + response.body());
        assertTrue(response.body().endsWith("data: [DONE]\n\n"), response.body());
        assertEquals(backupCalls + 1, backup.received().size(), "the backup continued the answer");
        assertEquals("Hello", backup.received().getLast().body().path("messages").get(1).path("content").asText());
    }

    @Test
    void anthropicAnswersInOpenAisShape() {
        try (HttpResponseFor<StreamResponse<ChatCompletionChunk>> response = client.chat().completions().withRawResponse()
                .createStreaming(params("haiku").toBuilder().streamOptions(ChatCompletionStreamOptions.builder()
                        .includeUsage(true).build()).build());
             StreamResponse<ChatCompletionChunk> stream = response.parse()) {
            List<ChatCompletionChunk> chunks = stream.stream().toList();
            String text = chunks.stream().flatMap(c -> c.choices().stream())
                    .map(c -> c.delta().content().orElse("")).collect(Collectors.joining());

            assertEquals(MockAnthropic.REPLY, text);
            assertEquals(6, chunks.getLast().usage().orElseThrow().completionTokens());
            assertEquals(12, chunks.getLast().usage().orElseThrow().promptTokens());
            assertEquals("anthropic:claude-3-5-haiku-latest", header(response, "x-gatehouse-backend"));
        }
        assertEquals(5, anthropic.received().getLast().body().path("max_tokens").asInt());
    }

    @Test
    void anthropicOverloadedFallsBack() {
        anthropic.failNext(MockAnthropic.Fault.OVERLOADED);
        try (HttpResponseFor<ChatCompletion> response = client.chat().completions().withRawResponse().create(params("haiku"))) {
            assertEquals(MockOpenAi.REPLY, response.parse().choices().get(0).message().content().orElseThrow());
            assertEquals("openai:gpt-4o-mini", header(response, "x-gatehouse-backend"));
            assertEquals("anthropic:claude-3-5-haiku-latest (503)", header(response, "x-gatehouse-fallbacks"));
        }
    }

    @Test
    void clientErrorFromUpstreamIsReturnedAsItIs() {
        int backupCalls = backup.received().size();
        openai.failNext(MockOpenAi.Fault.INVALID_VALUE);

        BadRequestException e = assertThrows(BadRequestException.class, () -> client.chat().completions().create(params("cloud")));
        assertEquals("decimal_above_max_value", e.code().orElseThrow());
        assertEquals("temperature", e.param().orElseThrow());
        assertTrue(e.getMessage().contains("Invalid 'temperature'"), e.getMessage());
        assertEquals(backupCalls, backup.received().size(), "the client's mistake is not retried elsewhere");
    }

    @Test
    void contextLengthExceededMovesOnToTheNextTarget() {
        openai.failNext(MockOpenAi.Fault.BAD_REQUEST);
        try (HttpResponseFor<ChatCompletion> response = client.chat().completions().withRawResponse().create(params("cloud"))) {
            assertEquals(MockOpenAi.REPLY, response.parse().choices().get(0).message().content().orElseThrow());
            assertEquals("backup:backup-model", header(response, "x-gatehouse-backend"));
            assertEquals("openai:gpt-4o-mini (context_length_exceeded)", header(response, "x-gatehouse-fallbacks"));
        }
    }

    @Test
    void anthropicPromptTooLongMovesOnToTheNextTarget() {
        anthropic.failNext(MockAnthropic.Fault.PROMPT_TOO_LONG);
        try (HttpResponseFor<ChatCompletion> response = client.chat().completions().withRawResponse().create(params("haiku"))) {
            assertEquals(MockOpenAi.REPLY, response.parse().choices().get(0).message().content().orElseThrow());
            assertEquals("openai:gpt-4o-mini", header(response, "x-gatehouse-backend"));
            assertEquals("anthropic:claude-3-5-haiku-latest (context_length_exceeded)", header(response, "x-gatehouse-fallbacks"));
        }
    }

    @Test
    void wholeAnswerThatStallsAfterItsHeadersFallsBack() {
        openai.failNext(MockOpenAi.Fault.STALL_BEFORE_BODY); // openai's timeout-ms is 1000 here
        long start = System.nanoTime();
        try (HttpResponseFor<ChatCompletion> response = client.chat().completions().withRawResponse().create(params("cloud"))) {
            assertEquals(MockOpenAi.REPLY, response.parse().choices().get(0).message().content().orElseThrow());
            assertEquals("backup:backup-model", header(response, "x-gatehouse-backend"));
            assertEquals("openai:gpt-4o-mini (504)", header(response, "x-gatehouse-fallbacks"));
        }
        assertTrue(System.nanoTime() - start < MockOpenAi.STALL_MILLIS * 1_000_000 / 2, "gave up at openai's timeout-ms");
    }

    @Test
    void parameterATargetCannotServeMovesOnToOneThatCan() {
        int anthropicCalls = anthropic.received().size();
        try (HttpResponseFor<ChatCompletion> response = client.chat().completions().withRawResponse()
                .create(params("haiku").toBuilder().seed(42).build())) {
            assertEquals(MockOpenAi.REPLY, response.parse().choices().get(0).message().content().orElseThrow());
            assertEquals("openai:gpt-4o-mini", header(response, "x-gatehouse-backend"));
            assertEquals("anthropic:claude-3-5-haiku-latest (unsupported)", header(response, "x-gatehouse-fallbacks"));
        }
        assertEquals(42, openai.received().getLast().body().path("seed").asInt());
        assertEquals(anthropicCalls, anthropic.received().size(), "refused before anything was sent");
    }

    @Test
    void parameterNoTargetCanServeIsTheFirstRefusal() throws Exception {
        HttpResponse<String> response = post("{\"model\":\"claudes\",\"seed\":42,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");

        assertEquals(400, response.statusCode(), response.body());
        assertTrue(response.body().contains("\"param\":\"seed\""), response.body());
        assertTrue(response.body().contains("\"code\":\"unsupported_parameter\""), response.body());
        assertTrue(response.body().contains("(Anthropic) does not support seed"), response.body());
        assertEquals("anthropic:claude-3-5-haiku-latest (unsupported), anthropic:claude-3-7-sonnet-latest (unsupported)",
                response.headers().firstValue("x-gatehouse-fallbacks").orElseThrow());
    }

    @Test
    void whenEveryTargetFailsTheLastErrorIsReturnedWithoutSecrets() throws Exception {
        openai.failNext(MockOpenAi.Fault.BAD_KEY);
        backup.failNext(MockOpenAi.Fault.SERVER_ERROR, MockOpenAi.Fault.SERVER_ERROR, MockOpenAi.Fault.SERVER_ERROR);

        HttpResponse<String> response = post("{\"model\":\"cloud\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertEquals(500, response.statusCode());
        assertTrue(response.body().contains("server_error"), response.body());
        assertEquals("openai:gpt-4o-mini (502), backup:backup-model (500), backup:backup-model (500), backup:backup-model (500)",
                response.headers().firstValue("x-gatehouse-fallbacks").orElseThrow(), "what was tried, and why");
        assertNoSecret(response);

        openai.failNext(MockOpenAi.Fault.BAD_KEY);
        HttpResponse<String> refused = post("{\"model\":\"openai/gpt-4o\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertEquals(502, refused.statusCode(), "the client's key is fine: Gatehouse's was refused");
        assertTrue(refused.body().contains("upstream_auth_failed"), refused.body());
        assertNoSecret(refused);
        assertNoSecret(get("/v1/models"));
        assertNoSecret(get("/metrics"));
    }

    @Test
    void unsupportedOrSkippedProvidersAreNotReachable() throws Exception {
        HttpResponse<String> response = post("{\"model\":\"claude/claude-3-5-haiku-latest\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertEquals(404, response.statusCode());
    }

    @Test
    void localFirstThenSpillWhileTheQueueIsFullThenLocalAgain() throws Exception {
        assertEquals("local:" + LOCAL, backendFor("chat"), "idle local engine answers");

        Engine engine = models.get(LOCAL).orElseThrow().engine();
        awaitCapacity(engine, c -> c.running() == 0 && c.waiting() == 0); // the engine frees a slot a step after the answer
        int[] prompt = engine.model().tokenizer().encode("t20 t21", true);
        SamplingParams endless = SamplingParams.greedy().withMaxTokens(500).withIgnoreEos(true);
        RequestHandle running = engine.submit(prompt, endless); // never read: pauses, keeps its slot
        awaitCapacity(engine, c -> c.running() == 1 && c.waiting() == 0); // admitted: the one waiting place is free again
        RequestHandle waiting = engine.submit(prompt, endless);
        try {
            awaitCapacity(engine, c -> c.running() == 1 && c.waiting() == 1);
            int before = openai.received().size();
            try (HttpResponseFor<ChatCompletion> response = client.chat().completions().withRawResponse().create(params("chat"))) {
                assertEquals(MockOpenAi.REPLY, response.parse().choices().get(0).message().content().orElseThrow());
                assertEquals("openai:gpt-4o-mini", header(response, "x-gatehouse-backend"));
                assertEquals("local:" + LOCAL + " (queue full)", header(response, "x-gatehouse-fallbacks"));
            }
            assertEquals("openai:gpt-4o-mini", backendFor("chat"), "still spilling while the queue is full");
            assertEquals(before + 2, openai.received().size());
        } finally {
            running.cancel();
            waiting.cancel();
        }
        awaitCapacity(engine, c -> c.running() == 0 && c.waiting() == 0);
        assertEquals("local:" + LOCAL, backendFor("chat"), "traffic returns to local once the queue drains");
        assertTrue(get("/metrics").body().contains("gatehouse_route_spills_total{backend=\"local:tiny-llama\"}"),
                "spills are counted");
    }

    @Test
    void deadProviderIsSkippedOnceItsBreakerOpens() throws Exception {
        GatehouseConfig config = GatehouseConfig.parse("""
                providers:
                  openai: {type: openai, base-url: %s, api-key: k1}
                  backup: {type: openai-compatible, base-url: %s, api-key: k2}
                models:
                  - name: cloud
                    targets: [{provider: openai, model: gpt-4o-mini}, {provider: backup, model: backup-model}]
                """.formatted(openai.baseUrl(), backup.baseUrl()), Map.of());
        Router router = Router.of(config, models, 2, 60_000, GatewayServer.newRegistry());
        ChatRequest request = new ChatRequest("cloud", List.of(new Message("user", "hi")), null, 5,
                new ChatRequest.Sampling(1f, 1f, 0, 0f, 1f, 0f, 0f, null, List.of(), false, 0), 1, false, false, false, null);
        openai.failNext(MockOpenAi.Fault.SERVER_ERROR, MockOpenAi.Fault.SERVER_ERROR);
        RouteTestGateway.open(router, request).stream().close();
        RouteTestGateway.open(router, request).stream().close();
        int openaiCalls = openai.received().size();

        Routed routed = RouteTestGateway.open(router, request);
        routed.stream().close();
        assertEquals("backup:backup-model", routed.backend());
        assertEquals(List.of("openai:gpt-4o-mini (circuit open)"), routed.fallbacks());
        assertEquals(openaiCalls, openai.received().size(), "a dead provider costs nothing");
    }

    @Test
    void lastTargetIsRetriedAfterABackoffButALongRetryAfterIsPassedOn() throws Exception {
        openai.failNext(MockOpenAi.Fault.SERVER_ERROR);
        backup.failNext(MockOpenAi.Fault.SERVER_ERROR);
        try (HttpResponseFor<ChatCompletion> response = client.chat().completions().withRawResponse().create(params("cloud"))) {
            assertEquals(MockOpenAi.REPLY, response.parse().choices().get(0).message().content().orElseThrow());
            assertEquals("backup:backup-model", header(response, "x-gatehouse-backend"));
            assertEquals("openai:gpt-4o-mini (500), backup:backup-model (500)", header(response, "x-gatehouse-fallbacks"));
        }

        backup.failNext(MockOpenAi.Fault.RATE_LIMITED);
        int calls = backup.received().size();
        HttpResponse<String> limited = post("{\"model\":\"backup/m\",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}");
        assertEquals(429, limited.statusCode());
        assertEquals("20", limited.headers().firstValue("retry-after").orElseThrow(), "the provider's own Retry-After");
        assertEquals(calls + 1, backup.received().size(), "not retried: 20 s is longer than a client should be held");
    }

    @Test
    void metricsNameTheBackendsAndWhyTheyWerePassedOver() throws Exception {
        openai.failNext(MockOpenAi.Fault.SERVER_ERROR);
        backendFor("cloud");
        backendFor("openai/any-model-a-client-typed");

        String metrics = get("/metrics").body();
        assertTrue(metrics.contains("gatehouse_route_fallbacks_total{backend=\"openai\",reason=\"500\"}"), metrics);
        assertTrue(metrics.contains("gatehouse_backend_requests_seconds_count{backend=\"backup\",outcome=\"ok\"}"), metrics);
        assertTrue(metrics.contains("gatehouse_backend_requests_seconds_count{backend=\"openai\",outcome=\"500\"}"), metrics);
        assertTrue(metrics.contains("gatehouse_backend_answers_seconds_count{backend=\"backup\"}"), "whole-answer latency: " + metrics);
        assertTrue(metrics.contains("gatehouse_route_circuit_state{provider=\"openai\"} 0.0"), metrics);
        assertFalse(metrics.contains("any-model-a-client-typed"), "no series per client-typed name");
    }

    @Test
    void routeToAMissingLocalFolderIsReportedAndPassedOver() throws Exception {
        GatehouseConfig config = GatehouseConfig.parse("""
                providers:
                  backup: {type: openai-compatible, base-url: %s}
                models:
                  - name: typo
                    targets: [{local: tiny-lama}, {provider: backup, model: backup-model}]
                """.formatted(backup.baseUrl()), Map.of());
        Router router = Router.of(config, models, GatewayServer.newRegistry());
        ChatRequest request = new ChatRequest("typo", List.of(new Message("user", "hi")), null, 5,
                new ChatRequest.Sampling(1f, 1f, 0, 0f, 1f, 0f, 0f, null, List.of(), false, 0), 1, false, false, false, null);

        assertEquals(List.of("tiny-lama"), router.missingLocalTargets());
        Routed routed = RouteTestGateway.open(router, request);
        routed.stream().close();
        assertEquals("backup:backup-model", routed.backend());
        assertEquals(List.of("local:tiny-lama (unavailable)"), routed.fallbacks());
    }

    @Test
    void localModelByItsOwnNameStaysLocal() {
        assertEquals("local:" + LOCAL, backendFor(LOCAL));
    }

    private static String backendFor(String model) {
        try (HttpResponseFor<ChatCompletion> response = client.chat().completions().withRawResponse().create(params(model))) {
            response.parse();
            return header(response, "x-gatehouse-backend");
        }
    }

    private static void awaitCapacity(Engine engine, java.util.function.Predicate<Capacity> condition) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        while (!condition.test(engine.capacity())) {
            if (System.nanoTime() > deadline) {
                throw new AssertionError("engine never reached the state: " + engine.capacity());
            }
            Thread.sleep(10);
        }
    }

    private static HttpResponse<String> post(String json) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/chat/completions"))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(json)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }

    private static void assertNoSecret(HttpResponse<String> response) {
        for (String secret : List.of(MockOpenAi.KEY, BACKUP_KEY, MockAnthropic.KEY, "sk-test", "sk-backup", "sk-ant")) {
            assertFalse(response.body().contains(secret), "body of " + response.uri() + " quotes a key");
            assertFalse(response.headers().map().toString().contains(secret), "headers of " + response.uri() + " quote a key");
        }
    }
}
