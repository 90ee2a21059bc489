package dev.gatehouse.gateway.shared;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.api.openai.OpenAiJson;
import dev.gatehouse.gateway.auth.ApiAuth;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.backend.openai.MockOpenAi;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.chat.FinishReason;
import dev.gatehouse.gateway.config.CacheConfig;
import dev.gatehouse.gateway.config.GatehouseConfig;
import dev.gatehouse.gateway.config.SharedConfig;
import dev.gatehouse.gateway.policy.InMemoryConcurrencyLimiter;
import dev.gatehouse.gateway.policy.RateLimiter;
import dev.gatehouse.gateway.route.Router;
import dev.gatehouse.gateway.server.GatewayServer;
import dev.gatehouse.gateway.store.KeyStore;
import dev.gatehouse.gateway.usage.Pricing;
import dev.gatehouse.gateway.usage.UsageRecorder;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two Gatehouse instances (two servers in this JVM, each with its own Redis client, as two processes
 * would have) sharing a real Redis (one server, a sentinel set or a cluster: see the subclasses), against a fake OpenAI that answers every request with 6
 * completion tokens; {@code cheap} charges $1 a completion token, so a request costs $6 and one with
 * max_tokens 8 may cost at most $8.
 */
abstract class AbstractTwoInstancesTest {
    private static final String MASTER = "master-secret";

    @TempDir
    Path dir;

    private AutoCloseable redis;
    MockOpenAi openai;
    KeyStore keys;
    private GatehouseConfig config;
    final List<AutoCloseable> open = new ArrayList<>(); // closed after each test, last first
    final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();
    private final Map<GatewayServer, PrometheusMeterRegistry> registries = new HashMap<>();

    @BeforeEach
    void start() throws Exception {
        redis = startRedis(dir);
        openai = new MockOpenAi();
        config = GatehouseConfig.parse("""
                providers:
                  cheap: {type: openai, base-url: %s, api-key: sk-x, timeout-ms: 10000, retries: 0,
                          prices: {input-per-million: 0, output-per-million: 1000000}}
                """.formatted(openai.baseUrl()), Map.of());
        keys = KeyStore.open(dir.resolve("gatehouse.db"));
    }

    @AfterEach
    void stop() throws Exception {
        for (AutoCloseable c : open.reversed()) {
            c.close();
        }
        for (AutoCloseable c : new AutoCloseable[]{keys, openai, redis}) { // null where starting stopped early
            if (c != null) {
                c.close();
            }
        }
    }

    /** Starts the Redis servers the instances share; closing it ends them. */
    abstract AutoCloseable startRedis(Path dir) throws Exception;

    /** Where the Redis servers {@link #startRedis} started are. */
    abstract SharedConfig.Servers servers();

    /** One instance: its own Redis client, key store handle, limits and cache, as `gatehouse serve` wires them. */
    GatewayServer instance(SharedConfig shared) {
        PrometheusMeterRegistry registry = GatewayServer.newRegistry();
        Redis client = Redis.connect(shared, registry);
        open.add(client);
        KeyStore instanceKeys = KeyStore.open(dir.resolve("gatehouse.db"));
        open.add(instanceKeys);
        LocalModels models = new LocalModels();
        open.add(models);
        CacheConfig cache = new CacheConfig(true, Duration.ofMinutes(1), 1 << 20, false);
        GatewayServer server = GatewayServer.builder(models, registry).router(Router.of(config, models, registry))
                .auth(new ApiAuth(MASTER, instanceKeys, new RedisRateLimiter(client, RateLimiter.system()),
                        new RedisConcurrencyLimiter(client, new InMemoryConcurrencyLimiter()), null))
                .usage(new UsageRecorder(Pricing.of(config), null, new RedisBudgets(client, null, Clock.systemUTC(),
                        UsageRecorder.inMemoryBudgets(null, Clock.systemUTC())), registry, null))
                .cache(cache).answers(new RedisAnswers(client, cache))
                .grace(Duration.ofSeconds(2)).start();
        open.add(server);
        registries.put(server, registry);
        return server;
    }

    /**
     * Sends a chat that must be answered 200, and returns once {@code server} has ended the call: it
     * settles the request's cost after the last byte, so the client can hold the answer while the
     * reservation for its highest cost still counts against the budget.
     */
    void sendAnswered(GatewayServer server, String key) throws Exception {
        long before = chatsAnswered(server);
        HttpResponse<String> r = send(server, key);
        assertEquals(200, r.statusCode(), r.body());
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (chatsAnswered(server) <= before) {
            assertTrue(System.nanoTime() < deadline, "the call never ended");
            Thread.sleep(1);
        }
    }

    private long chatsAnswered(GatewayServer server) {
        Timer answered = registries.get(server).find("gatehouse.http.requests").tag("route", "/v1/chat/completions")
                .tag("status", "200").timer();
        return answered == null ? 0 : answered.count();
    }

    GatewayServer instance() {
        return instance(shared(servers(), SharedConfig.OnRedisDown.LOCAL));
    }

    static SharedConfig shared(SharedConfig.Servers servers, SharedConfig.OnRedisDown onDown) {
        return new SharedConfig(servers, onDown, SharedConfig.DEFAULT_TIMEOUT, "test:", SharedConfig.DEFAULT_LEASE);
    }

    String key(Integer rpm, Integer maxConcurrent, Double budgetUsd) {
        return keys.create(new KeyStore.Spec("k", List.of(), rpm, null, maxConcurrent, budgetUsd, null, null)).key();
    }

    /** A sampled (so never cached) chat request, or a greedy one ({@code temperature} 0) that may be. */
    static String chat(float temperature, boolean stream) {
        return "{\"model\":\"cheap/gpt-4o-mini\",\"max_tokens\":8,\"temperature\":" + temperature + ",\"stream\":" + stream
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    }

    HttpRequest request(GatewayServer server, String body, String key) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/chat/completions"))
                .timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    HttpResponse<String> send(GatewayServer server, String key) throws Exception {
        return send(server, chat(0.7f, false), key);
    }

    HttpResponse<String> send(GatewayServer server, String body, String key) throws Exception {
        return http.send(request(server, body, key), HttpResponse.BodyHandlers.ofString());
    }

    static JsonNode error(HttpResponse<String> r) throws Exception {
        return OpenAiJson.MAPPER.readTree(r.body()).path("error");
    }

    @Test
    void twoInstancesShareAKeysRequestsPerMinuteExactly() throws Exception {
        String key = key(3, null, null);
        GatewayServer a = instance();
        GatewayServer b = instance();

        assertEquals(200, send(a, key).statusCode());
        assertEquals(200, send(b, key).statusCode());
        HttpResponse<String> third = send(a, key);
        assertEquals(200, third.statusCode());
        assertEquals("0", third.headers().firstValue("x-ratelimit-remaining-requests").orElseThrow(),
                "the third of three, counted over both instances");

        HttpResponse<String> fourth = send(b, key);
        assertEquals(429, fourth.statusCode(), fourth.body());
        assertEquals("requests", error(fourth).path("type").asText());
        assertTrue(error(fourth).path("message").asText().contains("Limit 3, Used 3"), fourth.body());
        assertEquals(3, openai.received().size());
    }

    @Test
    void twoInstancesShareAKeysBudgetExactly() throws Exception {
        String key = key(null, null, 20.0);
        GatewayServer a = instance();
        GatewayServer b = instance();

        sendAnswered(a, key); // $6
        sendAnswered(b, key); // $12
        sendAnswered(a, key); // $18: $2 left, and a request may cost $8
        HttpResponse<String> refused = send(b, key);
        assertEquals(429, refused.statusCode(), refused.body());
        assertEquals("insufficient_quota", error(refused).path("code").asText());
        assertTrue(error(refused).path("message").asText().contains("$2.000000 left of its $20.000000 budget"), refused.body());
        assertEquals(3, openai.received().size());
    }

    @Test
    void aRequestInFlightAtOneInstanceHoldsTheKeysOnlySlotAtTheOther() throws Exception {
        String key = key(null, 1, null);
        GatewayServer a = instance();
        GatewayServer b = instance();
        openai.failNext(MockOpenAi.Fault.STALL_AT_START); // A's stream stalls for 5 s after its first chunk
        CompletableFuture<HttpResponse<String>> running = http.sendAsync(request(a, chat(0.7f, true), key),
                HttpResponse.BodyHandlers.ofString());
        while (openai.received().isEmpty()) {
            Thread.sleep(10);
        }

        HttpResponse<String> refused = send(b, key);
        assertEquals(429, refused.statusCode(), refused.body());
        assertTrue(error(refused).path("message").asText().contains("concurrent"), refused.body());

        running.get(); // it ends (cut off by the stall) and lets go of its slot, just after its last byte
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
        int status;
        while ((status = send(b, key).statusCode()) == 429 && System.nanoTime() < deadline) {
            Thread.sleep(20);
        }
        assertEquals(200, status, "the slot is free once A's request ended");
    }

    @Test
    void anAnswerCachedByOneInstanceIsAHitAtTheOther() throws Exception {
        String key = key(null, null, null);
        String other = key(null, null, null);
        GatewayServer a = instance();
        GatewayServer b = instance();

        HttpResponse<String> first = send(a, chat(0, false), key);
        assertEquals("MISS", first.headers().firstValue("x-gatehouse-cache").orElseThrow());
        HttpResponse<String> second = send(b, chat(0, true), key); // the same request, streamed
        assertEquals(200, second.statusCode());
        assertEquals("HIT", second.headers().firstValue("x-gatehouse-cache").orElseThrow());
        assertTrue(second.body().contains(MockOpenAi.REPLY.split(" ")[0]), second.body());
        assertEquals(1, openai.received().size(), "answered once, by the provider");

        assertEquals("MISS", send(b, chat(0, false), other).headers().firstValue("x-gatehouse-cache").orElseThrow(),
                "answers stay with the key that asked");
    }

    @Test
    void forgettingAModelDropsOnlyItsAnswers() throws Exception {
        forgettingAModelDropsOnlyItsAnswers(() -> {});
    }

    /** Answers of two models; {@code stored} looks at them in Redis before one model's are forgotten. */
    void forgettingAModelDropsOnlyItsAnswers(Runnable stored) throws Exception {
        try (Redis redis = Redis.connect(shared(servers(), SharedConfig.OnRedisDown.LOCAL), new SimpleMeterRegistry())) {
            RedisAnswers answers = new RedisAnswers(redis, new CacheConfig(true, Duration.ofMinutes(1), 1 << 20, false));
            List<ChatEvent> answer = List.of(new ChatEvent.Delta(0, "Hi", List.of()), new ChatEvent.Finish(0, FinishReason.STOP));
            for (int i = 0; i < 30; i++) {
                answers.put("m\n" + i, answer);
                answers.put("other\n" + i, answer);
            }
            stored.run();
            answers.forget("m");
            for (int i = 0; i < 30; i++) {
                assertNull(answers.get("m\n" + i), "answer " + i);
                assertEquals(answer, answers.get("other\n" + i), "another model's answer " + i);
            }
        }
    }
}
