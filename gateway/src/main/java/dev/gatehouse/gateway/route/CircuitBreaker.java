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

    /** What {@link #allow()} answers: the half-open trial is told apart so that only its holder lets it go. */
    enum Permit { DENIED, GRANTED, TRIAL }

    /** Whether a request may go to the target now; in half-open, only the first caller gets the trial. */
    synchronized Permit allow() {
        switch (state()) {
            case CLOSED -> {
                return Permit.GRANTED;
            }
            case HALF_OPEN -> {
                if (trialOut) {
                    return Permit.DENIED;
                }
                trialOut = true;
                return Permit.TRIAL;
            }
            default -> {
                return Permit.DENIED;
            }
        }
    }

    synchronized void success() {
        failures = 0;
        trialOut = false;
    }

    /**
     * The holder of the trial ended with no verdict on the target (the request was refused before
     * it reached the target, or the caller gave up): the trial is free for the next caller.
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
