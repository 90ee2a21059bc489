package dev.gatehouse.gateway.policy;

import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.junit.jupiter.api.Test;

class InMemoryConcurrencyLimiterTest {
    @Test
    void refusesPastTheLimitAndFreesASlotOnClose() {
        ConcurrencyLimiter limiter = new InMemoryConcurrencyLimiter();
        ConcurrencyLimiter.Slot a = limiter.acquire("k", 2);
        ConcurrencyLimiter.Slot b = limiter.acquire("k", 2);
        assertNotNull(a);
        assertNotNull(b);
        assertNull(limiter.acquire("k", 2));
        assertNotNull(limiter.acquire("other", 2)); // keys do not share slots
        a.close();
        assertNotNull(limiter.acquire("k", 2));
        assertNull(limiter.acquire("k", 2));
        for (int i = 0; i < 100; i++) {
            assertNotNull(limiter.acquire("k", null)); // no limit
        }
    }
}
