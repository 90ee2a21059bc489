package dev.gatehouse.gateway.shared;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.gatehouse.gateway.config.SharedConfig;
import dev.gatehouse.gateway.policy.RateLimiter;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Tokens per minute over two instances' limiters on one Redis, with estimates replaced by real usage. */
class RedisRateLimiterTest {
    @TempDir
    Path dir;

    private TestRedis server;
    private Redis a;
    private Redis b;

    @BeforeEach
    void start() throws Exception {
        server = TestRedis.start(dir);
        SharedConfig config = new SharedConfig(new SharedConfig.Single(server.url()), SharedConfig.OnRedisDown.LOCAL, SharedConfig.DEFAULT_TIMEOUT, "t:",
                SharedConfig.DEFAULT_LEASE);
        a = Redis.connect(config, new SimpleMeterRegistry());
        b = Redis.connect(config, new SimpleMeterRegistry());
    }

    @AfterEach
    void stop() throws Exception {
        a.close();
        b.close();
        server.close();
    }

    @Test
    void tokensPerMinuteAreCountedOverBothAndSettledToWhatWasUsed() {
        RedisRateLimiter one = new RedisRateLimiter(a, RateLimiter.system());
        RedisRateLimiter two = new RedisRateLimiter(b, RateLimiter.system());

        RateLimiter.Decision first = one.acquire("k", null, 100, 60);
        assertTrue(first.allowed());
        assertEquals("40", first.headers().get("x-ratelimit-remaining-tokens"));
        RateLimiter.Decision over = two.acquire("k", null, 100, 50);
        assertFalse(over.allowed(), "60 of 100 are held by the other instance");
        assertEquals("tokens", over.exceeded());
        assertTrue(over.message().contains("Limit 100, Used 60, Requested 50"), over.message());
        assertTrue(over.retryAfterSeconds() >= 59 && over.retryAfterSeconds() <= 60, over.message());

        first.permit().settle(20); // the answer was shorter than its estimate
        assertTrue(two.acquire("k", null, 100, 50).allowed());
        assertEquals("30", one.peek("k", null, 100).get("x-ratelimit-remaining-tokens"));
        assertEquals("100", one.peek("other", null, 100).get("x-ratelimit-remaining-tokens"), "keys apart");
    }
}
