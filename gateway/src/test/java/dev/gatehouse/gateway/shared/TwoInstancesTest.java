package dev.gatehouse.gateway.shared;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.gateway.Main;
import dev.gatehouse.gateway.config.SharedConfig;
import dev.gatehouse.gateway.server.GatewayServer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/** Two instances sharing one Redis server ({@code shared.redis-url}), and what each does while it is down. */
class TwoInstancesTest extends AbstractTwoInstancesTest {
    private TestRedis redis;

    @Override
    AutoCloseable startRedis(Path dir) throws Exception {
        redis = TestRedis.start(dir);
        return redis;
    }

    @Override
    SharedConfig.Servers servers() {
        return new SharedConfig.Single(redis.url());
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
        GatewayServer a = instance(shared(servers(), SharedConfig.OnRedisDown.CLOSED));
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
            GatewayServer a = instance(shared(new SharedConfig.Single("redis://127.0.0.1:" + silent.getLocalPort()), SharedConfig.OnRedisDown.LOCAL));
            long start = System.nanoTime();
            HttpResponse<String> r = send(a, key);
            long millis = Duration.ofNanos(System.nanoTime() - start).toMillis();
            assertEquals(200, r.statusCode(), r.body());
            assertEquals("4", r.headers().firstValue("x-ratelimit-remaining-requests").orElseThrow(), "counted here");
            assertTrue(millis < 3_000, "waited " + millis + " ms");
        }
    }

    @Test
    void theSlotsOfAnInstanceThatDiedComeBackWhenTheirLeaseEnds() throws Exception {
        String key = key(null, 2, null);
        GatewayServer b = instance();
        try (ServerSocket silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress())) { // A's provider: never answers
            Process a = serve("""
                    providers:
                      cheap: {type: openai, base-url: http://127.0.0.1:%d/v1, api-key: sk-x, timeout-ms: 120000, retries: 0}
                    store: {path: %s}
                    shared: {redis-url: %s, key-prefix: "test:", lease-seconds: 2}
                    """.formatted(silent.getLocalPort(), dir.resolve("gatehouse.db"), redis.url()));
            int port = listeningPort(a, dir.resolve("a.log"));
            // both of the key's slots, held at A while its provider is silent; B's probes below take a slot for a
            // moment, so one of A's requests may be refused: it is sent again until A holds both
            HttpRequest toA = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/v1/chat/completions"))
                    .header("Authorization", "Bearer " + key).header("Content-Type", "application/json")
                    .POST(HttpRequest.BodyPublishers.ofString(chat(0.7f, true))).build();
            List<CompletableFuture<HttpResponse<Void>>> atA = new ArrayList<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (true) {
                atA.removeIf(CompletableFuture::isDone);
                while (atA.size() < 2) {
                    atA.add(http.sendAsync(toA, HttpResponse.BodyHandlers.discarding()));
                }
                if (send(b, key).statusCode() == 429) { // B's own request, when let in, ends at once and frees its slot
                    break;
                }
                assertTrue(System.nanoTime() < deadline, "A never held both slots");
                Thread.sleep(100);
            }

            Thread.sleep(3_000); // past a lease: A renews what it holds while it lives
            HttpResponse<String> refused = send(b, key);
            assertEquals(429, refused.statusCode(), "A's slots outlive their 2 s lease while A runs: " + refused.body());

            a.destroyForcibly().waitFor(10, TimeUnit.SECONDS); // killed: nothing released, nothing renewed
            long killed = System.nanoTime();
            while (send(b, key).statusCode() != 200) {
                assertTrue(System.nanoTime() - killed < TimeUnit.SECONDS.toNanos(6), "A's slots not freed 6 s after it died");
                Thread.sleep(100);
            }
            System.out.printf("dead instance: its slots free %.1f s after it was killed (lease-seconds: 2)%n",
                    (System.nanoTime() - killed) / 1e9);
        }
    }

    /** {@code gatehouse serve} with {@code yaml} in its own JVM, as a second instance is; ended after the test. */
    private Process serve(String yaml) throws Exception {
        Path config = Files.writeString(dir.resolve("a.yaml"), yaml);
        Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-modules", "jdk.incubator.vector", "-Xmx512m", "-cp", System.getProperty("java.class.path"),
                Main.class.getName(), "serve", "--port", "0", "--no-default-embedding-model",
                "--model-store", Files.createDirectories(dir.resolve("models")).toString(), "--config", config.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("a.log").toFile()).start();
        open.add(() -> process.destroyForcibly().waitFor(10, TimeUnit.SECONDS));
        return process;
    }

    private static int listeningPort(Process process, Path log) throws Exception {
        Pattern listening = Pattern.compile("listening on http://127\\.0\\.0\\.1:(\\d+)");
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        while (System.nanoTime() < deadline) {
            Matcher m = listening.matcher(Files.readString(log));
            if (m.find()) {
                return Integer.parseInt(m.group(1));
            }
            assertTrue(process.isAlive(), "serve stopped: " + Files.readString(log));
            Thread.sleep(100);
        }
        throw new AssertionError("serve did not start: " + Files.readString(log));
    }

    /** Counts the warnings a class logs while open. */
    static final class Warnings extends Handler implements AutoCloseable {
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
