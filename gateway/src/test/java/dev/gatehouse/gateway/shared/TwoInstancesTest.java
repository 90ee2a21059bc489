package dev.gatehouse.gateway.shared;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.api.openai.OpenAiJson;
import dev.gatehouse.gateway.auth.ApiAuth;
import dev.gatehouse.gateway.backend.local.LocalModels;
import dev.gatehouse.gateway.backend.openai.MockOpenAi;
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
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two Gatehouse instances (two servers in this JVM, each with its own Redis client, as two processes
 * would have) sharing one real Redis, against a fake OpenAI that answers every request with 6
 * completion tokens; {@code cheap} charges $1 a completion token, so a request costs $6 and one with
 * max_tokens 8 may cost at most $8.
 */
class TwoInstancesTest {
    private static final String MASTER = "master-secret";

    @TempDir
    Path dir;

    private TestRedis redis;
    private MockOpenAi openai;
    private KeyStore keys;
    private GatehouseConfig config;
    private final List<AutoCloseable> open = new ArrayList<>();
    private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).build();

    @BeforeEach
    void start() throws Exception {
        redis = TestRedis.start(dir);
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
        keys.close();
        openai.close();
        redis.close();
    }

    /** One instance: its own Redis client, key store handle, limits and cache, as `gatehouse serve` wires them. */
    private GatewayServer instance(SharedConfig shared) {
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
        return server;
    }

    private GatewayServer instance() {
        return instance(shared(redis.url(), SharedConfig.OnRedisDown.LOCAL));
    }

    private static SharedConfig shared(String url, SharedConfig.OnRedisDown onDown) {
        return new SharedConfig(url, onDown, SharedConfig.DEFAULT_TIMEOUT, "test:");
    }

    private String key(Integer rpm, Integer maxConcurrent, Double budgetUsd) {
        return keys.create(new KeyStore.Spec("k", List.of(), rpm, null, maxConcurrent, budgetUsd, null, null)).key();
    }

    /** A sampled (so never cached) chat request, or a greedy one ({@code temperature} 0) that may be. */
    private static String chat(float temperature, boolean stream) {
        return "{\"model\":\"cheap/gpt-4o-mini\",\"max_tokens\":8,\"temperature\":" + temperature + ",\"stream\":" + stream
                + ",\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}";
    }

    private HttpRequest request(GatewayServer server, String body, String key) {
        return HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/v1/chat/completions"))
                .timeout(Duration.ofSeconds(30)).header("Authorization", "Bearer " + key)
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body)).build();
    }

    private HttpResponse<String> send(GatewayServer server, String key) throws Exception {
        return send(server, chat(0.7f, false), key);
    }

    private HttpResponse<String> send(GatewayServer server, String body, String key) throws Exception {
        return http.send(request(server, body, key), HttpResponse.BodyHandlers.ofString());
    }

    private static JsonNode error(HttpResponse<String> r) throws Exception {
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

        assertEquals(200, send(a, key).statusCode()); // $6
        assertEquals(200, send(b, key).statusCode()); // $12
        assertEquals(200, send(a, key).statusCode()); // $18: $2 left, and a request may cost $8
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

        running.get(); // it ends (cut off by the stall) and lets go of its slot
        assertEquals(200, send(b, key).statusCode(), "the slot is free once A's request ended");
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
    void whenRedisDiesEachInstanceCountsOnItsOwnAndSaysSoOnce() throws Exception {
        String key = key(2, null, null);
        GatewayServer a = instance();
        assertEquals(200, send(a, key).statusCode());
        Warnings warnings = Warnings.of(Redis.class);
        try {
            redis.kill();

            long start = System.nanoTime();
            assertEquals(200, send(a, key).statusCode(), "counted by this instance from here");
            assertEquals(200, send(a, key).statusCode());
            assertEquals(429, send(a, key).statusCode(), "this instance's own count reaches the limit");
            Thread.sleep(1_200); // past the retry pause: the next request tries Redis again, and falls back again
            assertEquals(429, send(a, key).statusCode());
            assertTrue(Duration.ofNanos(System.nanoTime() - start).toMillis() < 5_000, "no request waited on Redis");
            assertEquals(1, warnings.count(), "one warning for the outage, not one per request");
        } finally {
            warnings.close();
        }
    }

    @Test
    void closedRefusesLimitedRequestsWhileRedisIsDownAndServesTheUnlimited() throws Exception {
        String limited = key(10, null, null);
        String unlimited = key(null, null, null);
        GatewayServer a = instance(shared(redis.url(), SharedConfig.OnRedisDown.CLOSED));
        assertEquals(200, send(a, limited).statusCode());
        redis.kill();

        HttpResponse<String> refused = send(a, limited);
        assertEquals(503, refused.statusCode(), refused.body());
        assertEquals("shared_state_unavailable", error(refused).path("code").asText());
        assertEquals("1", refused.headers().firstValue("retry-after").orElseThrow());
        assertEquals(200, send(a, unlimited).statusCode(), "a key without limits needs no shared count");
    }

    @Test
    void aRedisThatNeverAnswersCostsARequestNoMoreThanTheTimeout() throws Exception {
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) { // accepts, never answers
            String key = key(5, null, null);
            GatewayServer a = instance(shared("redis://127.0.0.1:" + silent.getLocalPort(), SharedConfig.OnRedisDown.LOCAL));
            long start = System.nanoTime();
            HttpResponse<String> r = send(a, key);
            long millis = Duration.ofNanos(System.nanoTime() - start).toMillis();
            assertEquals(200, r.statusCode(), r.body());
            assertEquals("4", r.headers().firstValue("x-ratelimit-remaining-requests").orElseThrow(), "counted here");
            assertTrue(millis < 3_000, "waited " + millis + " ms");
        }
    }

    /** Counts the warnings a class logs while open. */
    private static final class Warnings extends Handler implements AutoCloseable {
        private final Logger logger;
        private final AtomicInteger count = new AtomicInteger();

        private Warnings(Logger logger) {
            this.logger = logger;
        }

        static Warnings of(Class<?> type) {
            Warnings w = new Warnings(Logger.getLogger(type.getName()));
            w.logger.addHandler(w);
            return w;
        }

        int count() {
            return count.get();
        }

        @Override
        public void publish(LogRecord record) {
            if (record.getLevel().intValue() >= Level.WARNING.intValue()) {
                count.incrementAndGet();
            }
        }

        @Override
        public void flush() {
        }

        @Override
        public void close() {
            logger.removeHandler(this);
        }
    }
}
