package dev.gatehouse.gateway.api.openai;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.auth.ApiAuth;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.backend.openai.MockOpenAi;
import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.route.Router;
import dev.gatehouse.gateway.server.GatewayServer;
import dev.gatehouse.gateway.store.KeyStore;
import dev.gatehouse.gateway.usage.Pricing;
import dev.gatehouse.gateway.usage.UsageLog;
import dev.gatehouse.gateway.usage.UsageRecorder;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Keys with a budget, through HTTP against a fake OpenAI: only priced models, and money reserved at
 * admission so that requests running at once never spend past the budget. The fake answers every
 * request with 19 prompt and 6 completion tokens; {@code cheap} charges $1 a completion token and
 * nothing for the prompt, so a request costs $6 and one with max_tokens 8 may cost at most $8.
 */
class BudgetApiTest {
    private static final String MASTER = "master-secret";

    @TempDir
    Path dir;

    private MockOpenAi openai;
    private LocalModels models;
    private KeyStore keys;
    private GatewayServer server;
    private UsageRecorder usage;
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeEach
    void start() throws Exception {
        openai = new MockOpenAi();
        models = new LocalModels();
        GatehouseConfig config = GatehouseConfig.parse("""
                providers:
                  cheap: {type: openai, base-url: %1$s, api-key: sk-x, timeout-ms: 2000, retries: 0,
                          prices: {models: {gpt-4o-mini: {input-per-million: 0, output-per-million: 1000000}}}}
                  unpriced: {type: openai, base-url: %1$s, api-key: sk-x, retries: 0}
                  flat: {type: openai, base-url: %1$s, api-key: sk-x, retries: 0,
                         prices: {input-per-million: 0, output-per-million: 1000000}}
                models:
                  - name: mixed
                    targets: [{provider: cheap, model: gpt-4o-mini}, {provider: unpriced, model: gpt-4o-mini}]
                  - name: long
                    targets: [{provider: cheap, model: gpt-4o-mini, context-length: 1000}]
                """.formatted(openai.baseUrl()), Map.of());
        keys = KeyStore.open(dir.resolve("gatehouse.db"));
        PrometheusMeterRegistry registry = GatewayServer.newRegistry();
        usage = new UsageRecorder(Pricing.of(config), UsageLog.open(dir.resolve("gatehouse.db")), Clock.systemUTC(), registry);
        server = GatewayServer.builder(models, registry).router(Router.of(config, models, registry))
                .auth(new ApiAuth(MASTER, keys))
                .usage(usage)
                .maxBodyBytes(1 << 20).grace(Duration.ofSeconds(5)).start();
    }

    @AfterEach
    void stop() {
        server.close();
        keys.close();
        models.close();
        openai.close();
    }

    private String key(Double budgetUsd) {
        return keys.create(new KeyStore.Spec("k", List.of(), null, null, null, budgetUsd, null, null)).key();
    }

    private static String chat(String model, Integer maxTokens, boolean stream) {
        return "{\"model\":\"" + model + "\"," + (maxTokens == null ? "" : "\"max_tokens\":" + maxTokens + ",")
                + "\"stream\":" + stream + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    }

    private HttpRequest request(String body, String key) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/chat/completions"))
                .timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    private HttpResponse<String> send(String body, String key) throws Exception {
        return http.send(request(body, key), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode error(HttpResponse<String> r) throws Exception {
        return OpenAiJson.MAPPER.readTree(r.body()).path("error");
    }

    private double spent(String keyId) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port()
                + "/admin/keys")).header("Authorization", "Bearer " + MASTER).GET().build(), HttpResponse.BodyHandlers.ofString());
        for (JsonNode k : OpenAiJson.MAPPER.readTree(r.body()).path("data")) {
            if (k.path("id").asText().equals(keyId)) {
                return k.path("spend-usd").asDouble();
            }
        }
        throw new AssertionError("no key " + keyId + " in " + r.body());
    }

    @Test
    void aKeyWithABudgetReachesOnlyModelsWithAPrice() throws Exception {
        String budgeted = key(100.0);
        String unlimited = key(null);
        assertEquals(200, send(chat("cheap/gpt-4o-mini", 8, false), budgeted).statusCode());
        assertEquals(200, send(chat("flat/any-model", 8, false), budgeted).statusCode(), "the provider's default price");

        for (String model : List.of("cheap/any-model", "unpriced/gpt-4o-mini", "mixed")) {
            HttpResponse<String> refused = send(chat(model, 8, false), budgeted);
            assertEquals(403, refused.statusCode(), model + ": " + refused.body());
            JsonNode e = error(refused);
            assertEquals("invalid_request_error", e.path("type").asText());
            assertEquals("model_not_priced", e.path("code").asText());
            assertEquals("model", e.path("param").asText());
            assertTrue(e.path("message").asText().contains("budget") && e.path("message").asText().contains(model),
                    e.path("message").asText());
        }
        int calls = openai.received().size();
        assertEquals(200, send(chat("cheap/any-model", 8, false), unlimited).statusCode(), "no budget, no price needed");
        assertEquals(calls + 1, openai.received().size(), "the refused requests never reached the provider");

        HttpResponse<String> unbounded = send(chat("cheap/gpt-4o-mini", null, false), budgeted);
        assertEquals(400, unbounded.statusCode(), unbounded.body());
        assertEquals("max_tokens_required", error(unbounded).path("code").asText());
        // a target with a known context bounds the answer without max_tokens: 1000 tokens at $1 is more than is left
        HttpResponse<String> tooDear = send(chat("long", null, false), budgeted);
        assertEquals(429, tooDear.statusCode(), tooDear.body());
        assertEquals("insufficient_quota", error(tooDear).path("code").asText());
        assertTrue(error(tooDear).path("message").asText().contains("may cost up to $1000.000000"), tooDear.body());
    }

    @Test
    void parallelRequestsNeverSpendPastTheBudget() throws Exception {
        String key = key(50.0);
        String keyId = keys.find(key).orElseThrow().id();
        List<Future<HttpResponse<String>>> answers = new ArrayList<>();
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int i = 0; i < 40; i++) {
                boolean stream = i % 2 == 0;
                answers.add(pool.submit(() -> send(chat("cheap/gpt-4o-mini", 8, stream), key)));
            }
        }
        int served = 0;
        for (Future<HttpResponse<String>> a : answers) {
            HttpResponse<String> r = a.get();
            if (r.statusCode() == 200) {
                served++;
            } else {
                assertEquals(429, r.statusCode(), r.body());
                assertEquals("insufficient_quota", error(r).path("code").asText());
            }
        }
        // each request costs $6 and holds $8 while it runs: 6 fit at once, 8 in all
        assertTrue(served >= 6 && served <= 8, served + " served");
        assertEquals(6.0 * served, spent(keyId), "charged what they cost, nothing more");
        usage.log().flush(); // the server's rows, once its writer has written them (it lets them gather first)
        try (UsageLog log = UsageLog.open(dir.resolve("gatehouse.db"))) {
            assertEquals(6.0 * served, log.spent(keyId, Instant.EPOCH), 1e-9);
        }
        assertTrue(6.0 * served <= 50);
    }

    @Test
    void failedCancelledAndDisconnectedRequestsLetGoOfWhatTheyHeld() throws Exception {
        String key = key(16.0); // two requests' worth held at once; one left held by mistake would leave room for none
        String keyId = keys.find(key).orElseThrow().id();
        openai.failNext(MockOpenAi.Fault.SERVER_ERROR, MockOpenAi.Fault.SERVER_ERROR);
        assertTrue(send(chat("cheap/gpt-4o-mini", 8, false), key).statusCode() >= 500);
        assertTrue(send(chat("cheap/gpt-4o-mini", 8, true), key).statusCode() >= 500);

        openai.failNext(MockOpenAi.Fault.STALL_AFTER_FIRST_WORD);
        try (InputStream body = http.send(request(chat("cheap/gpt-4o-mini", 8, true), key),
                HttpResponse.BodyHandlers.ofInputStream()).body()) {
            body.read(); // the first bytes arrive, then the client hangs up
        }
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (spent(keyId) == 0 && System.nanoTime() < deadline) { // ends when the gateway notices
            Thread.sleep(50);
        }
        double disconnected = spent(keyId);
        assertTrue(disconnected > 0 && disconnected <= 8, "what was generated is paid: " + disconnected);

        for (int i = 0; i < 2; i++) { // 2 x $8 fit only if nothing is still held
            HttpResponse<String> r = send(chat("cheap/gpt-4o-mini", 8, false), key);
            if (disconnected + 6 * i + 8 <= 16) {
                assertEquals(200, r.statusCode(), r.body());
            }
        }
        assertTrue(spent(keyId) <= 16);
    }
}
