package dev.gatehouse.gateway.route;

import static org.junit.jupiter.api.Assertions.assertEquals;

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
        assertEquals(CircuitBreaker.Permit.GRANTED, breaker.allow());
        breaker.failure();

        assertEquals(CircuitBreaker.State.OPEN, breaker.state());
        assertEquals(CircuitBreaker.Permit.DENIED, breaker.allow());
    }

    @Test
    void halfOpenLetsOneTrialThroughThenClosesOrReopens() {
        for (int i = 0; i < 3; i++) {
            breaker.failure();
        }
        now.addAndGet(10_000);

        assertEquals(CircuitBreaker.State.HALF_OPEN, breaker.state());
        assertEquals(CircuitBreaker.Permit.TRIAL, breaker.allow(), "one trial");
        assertEquals(CircuitBreaker.Permit.DENIED, breaker.allow(), "and only one");
        breaker.failure();
        assertEquals(CircuitBreaker.State.OPEN, breaker.state(), "a failed trial reopens for a full cooldown");
        assertEquals(CircuitBreaker.Permit.DENIED, breaker.allow());

        now.addAndGet(10_000);
        assertEquals(CircuitBreaker.Permit.TRIAL, breaker.allow());
        breaker.success();
        assertEquals(CircuitBreaker.State.CLOSED, breaker.state());
        assertEquals(CircuitBreaker.Permit.GRANTED, breaker.allow());
        assertEquals(CircuitBreaker.Permit.GRANTED, breaker.allow());
    }
}
