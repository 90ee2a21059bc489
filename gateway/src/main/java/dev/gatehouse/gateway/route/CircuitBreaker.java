package dev.gatehouse.gateway.route;

import java.util.function.LongSupplier;

/**
 * One target's breaker, so a dead provider costs nothing: closed until {@code threshold} failures
 * in a row, then open (the target is skipped) for {@code cooldownMillis}, then half-open: one
 * request may try it, and its outcome closes or reopens the breaker.
 */
final class CircuitBreaker {
    enum State { CLOSED, OPEN, HALF_OPEN }

    private final int threshold;
    private final long cooldownMillis;
    private final LongSupplier clock;
    private int failures;
    private long openedAt;
    private boolean trialOut;

    CircuitBreaker(int threshold, long cooldownMillis, LongSupplier clock) {
        this.threshold = threshold;
        this.cooldownMillis = cooldownMillis;
        this.clock = clock;
    }

    /** Whether a request may go to the target now; in half-open, only the first caller gets yes. */
    synchronized boolean allow() {
        switch (state()) {
            case CLOSED -> {
                return true;
            }
            case HALF_OPEN -> {
                if (trialOut) {
                    return false;
                }
                trialOut = true;
                return true;
            }
            default -> {
                return false;
            }
        }
    }

    synchronized void success() {
        failures = 0;
        trialOut = false;
    }

    /**
     * A try that ended with no verdict on the target (the request was refused before it reached
     * the target, or the caller gave up): the trial it may have held is free for the next caller.
     */
    synchronized void release() {
        trialOut = false;
    }

    synchronized void failure() {
        failures++;
        trialOut = false;
        if (failures >= threshold) {
            openedAt = clock.getAsLong(); // reopening after a failed trial restarts the cooldown
        }
    }

    synchronized State state() {
        if (failures < threshold) {
            return State.CLOSED;
        }
        return clock.getAsLong() - openedAt >= cooldownMillis ? State.HALF_OPEN : State.OPEN;
    }
}
