package dev.gatehouse.gateway.route;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class CircuitBreakerTest {
    final AtomicLong now = new AtomicLong(1_000);
    final CircuitBreaker breaker = new CircuitBreaker(3, 10_000, now::get);

    @Test
    void opensAfterConsecutiveFailuresOnly() {
        breaker.failure();
        breaker.failure();
        breaker.success(); // the count is of failures in a row
        breaker.failure();
        breaker.failure();
        assertTrue(breaker.allow());
        breaker.failure();

        assertEquals(CircuitBreaker.State.OPEN, breaker.state());
        assertFalse(breaker.allow());
    }

    @Test
    void halfOpenLetsOneTrialThroughThenClosesOrReopens() {
        for (int i = 0; i < 3; i++) {
            breaker.failure();
        }
        now.addAndGet(10_000);

        assertEquals(CircuitBreaker.State.HALF_OPEN, breaker.state());
        assertTrue(breaker.allow(), "one trial");
        assertFalse(breaker.allow(), "and only one");
        breaker.failure();
        assertEquals(CircuitBreaker.State.OPEN, breaker.state(), "a failed trial reopens for a full cooldown");
        assertFalse(breaker.allow());

        now.addAndGet(10_000);
        assertTrue(breaker.allow());
        breaker.success();
        assertEquals(CircuitBreaker.State.CLOSED, breaker.state());
        assertTrue(breaker.allow());
        assertTrue(breaker.allow());
    }
}
