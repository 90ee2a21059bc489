package dev.gatehouse.gateway.policy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The sliding window on a fake clock: limits hit exactly at their thresholds. */
class InMemoryRateLimiterTest {
    private final AtomicLong now = new AtomicLong(1_000_000_000L);
    private final RateLimiter limiter = new InMemoryRateLimiter(now::get);

    private void advanceSeconds(long s) {
        now.addAndGet(TimeUnit.SECONDS.toNanos(s));
    }

    @Test
    void requestsPerMinuteHitAtTheLimitAndTheWindowSlides() {
        assertTrue(limiter.acquire("k", 3, null, 1).allowed());
        advanceSeconds(20);
        assertTrue(limiter.acquire("k", 3, null, 1).allowed());
        RateLimiter.Decision third = limiter.acquire("k", 3, null, 1);
        assertTrue(third.allowed());
        assertEquals("0", third.headers().get("x-ratelimit-remaining-requests"));
        assertEquals("60s", third.headers().get("x-ratelimit-reset-requests"));

        RateLimiter.Decision fourth = limiter.acquire("k", 3, null, 1);
        assertFalse(fourth.allowed());
        assertEquals("requests", fourth.exceeded());
        assertEquals(40, fourth.retryAfterSeconds()); // the first request leaves the window 60s after it came
        assertEquals("3", fourth.headers().get("x-ratelimit-limit-requests"));

        advanceSeconds(40); // exactly when the first one leaves
        assertTrue(limiter.acquire("k", 3, null, 1).allowed());
        assertFalse(limiter.acquire("k", 3, null, 1).allowed()); // the two at t=20 are still in
        advanceSeconds(20);
        assertTrue(limiter.acquire("k", 3, null, 1).allowed());
    }

    @Test
    void keysAreCountedApartAndNullIsUnlimited() {
        assertTrue(limiter.acquire("a", 1, null, 1).allowed());
        assertFalse(limiter.acquire("a", 1, null, 1).allowed());
        assertTrue(limiter.acquire("b", 1, null, 1).allowed());
        for (int i = 0; i < 1000; i++) {
            assertTrue(limiter.acquire("c", null, null, 1_000_000).allowed());
        }
    }

    @Test
    void tokensPerMinuteCountEstimatesThenRealUsage() {
        RateLimiter.Decision first = limiter.acquire("k", null, 100, 60);
        assertTrue(first.allowed());
        assertEquals("40", first.headers().get("x-ratelimit-remaining-tokens"));
        RateLimiter.Decision over = limiter.acquire("k", null, 100, 50);
        assertFalse(over.allowed());
        assertEquals("tokens", over.exceeded());
        assertEquals(60, over.retryAfterSeconds());

        first.permit().settle(20); // the answer was shorter than max_tokens
        assertTrue(limiter.acquire("k", null, 100, 50).allowed()); // 20 + 50 fits
        assertTrue(limiter.acquire("k", null, 100, 30).allowed()); // exactly 100
        assertFalse(limiter.acquire("k", null, 100, 1).allowed());
        advanceSeconds(60);
        assertEquals("100", limiter.peek("k", null, 100).get("x-ratelimit-remaining-tokens"));
    }

    @Test
    void refusedRequestsAreNotCounted() {
        assertTrue(limiter.acquire("k", 5, 10, 8).allowed());
        for (int i = 0; i < 10; i++) {
            assertFalse(limiter.acquire("k", 5, 10, 8).allowed());
        }
        assertEquals("4", limiter.peek("k", 5, 10).get("x-ratelimit-remaining-requests"));
    }
}
