package dev.gatehouse.gateway.shared;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.gateway.config.SharedConfig;
import dev.gatehouse.gateway.server.GatewayServer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.logging.Handler;
import java.util.logging.Level;
import java.util.logging.LogRecord;
import java.util.logging.Logger;
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
