package dev.gatehouse.gateway.pipeline;

import dev.gatehouse.gateway.auth.ApiAuth;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.policy.Budgets;
import dev.gatehouse.gateway.policy.ConcurrencyLimiter;
import dev.gatehouse.gateway.policy.RateLimiter;
import dev.gatehouse.gateway.usage.UsageRecorder;

import java.util.function.BiConsumer;
import java.util.function.DoubleSupplier;

/**
 * What one request holds of its caller's limits. Before the handler runs: the most it can cost,
 * reserved from the key's budget, the caller's requests in flight, its rpm and tpm (with OpenAI's
 * x-ratelimit-* headers); over any of them, a 429. After it: the reservation is settled to the real
 * cost (or let go on {@link #close} if it never was), the concurrency slot is let go and the rate
 * limiter's token estimate is replaced by what the request really used. The master key and an open
 * server have no limits.
 */
final class Admission implements AutoCloseable {
    private static final Admission UNLIMITED = new Admission(Budgets.Reservation.NONE, ConcurrencyLimiter.Slot.NONE, null);

    private final Budgets.Reservation reservation;
    private final ConcurrencyLimiter.Slot slot;
    private final RateLimiter.Permit permit; // null when the caller has no rpm/tpm

    private Admission(Budgets.Reservation reservation, ConcurrencyLimiter.Slot slot, RateLimiter.Permit permit) {
        this.reservation = reservation;
        this.slot = slot;
        this.permit = permit;
    }

    /**
     * Admits the request or throws the error that says which limit it is over (and counts the refusal).
     * {@code ceiling} is the most the request can cost; it is asked only of keys with a budget.
     */
    static Admission admit(ApiAuth auth, UsageRecorder usage, ApiAuth.Caller caller, long estimatedTokens,
                           DoubleSupplier ceiling, BiConsumer<String, String> headers) {
        String id = caller.limitId();
        if (id == null) {
            return UNLIMITED;
        }
        Budgets.Reservation reservation;
        try {
            reservation = usage.budgets().reserve(caller.key(), ceiling); // budgets belong to virtual keys
        } catch (ApiException e) {
            if (e.status() == 429) {
                usage.rejected(id, "budget");
            }
            throw e;
        }
        ConcurrencyLimiter.Slot slot = auth.concurrency().acquire(id, caller.maxConcurrent());
        if (slot == null) {
            reservation.release();
            usage.rejected(id, "concurrency");
            throw new ApiException(429, "requests", "rate_limit_exceeded", null, "Too many concurrent requests for "
                    + (caller.key() != null ? "this API key" : "this user") + ": limit " + caller.maxConcurrent()
                    + ". Retry when one has finished.", 1);
        }
        try {
            return new Admission(reservation, slot, rate(auth.limiter(), usage, caller, estimatedTokens, headers));
        } catch (RuntimeException e) {
            slot.close();
            reservation.release();
            throw e;
        }
    }

    /** Counts the request against the caller's rpm/tpm, sets the x-ratelimit-* headers, refuses over a limit. */
    private static RateLimiter.Permit rate(RateLimiter limiter, UsageRecorder usage, ApiAuth.Caller caller,
                                           long estimatedTokens, BiConsumer<String, String> headers) {
        if (caller.rpm() == null && caller.tpm() == null) {
            return null;
        }
        RateLimiter.Decision d = limiter.acquire(caller.limitId(), caller.rpm(), caller.tpm(), estimatedTokens);
        d.headers().forEach(headers);
        if (!d.allowed()) {
            usage.rejected(caller.limitId(), d.exceeded());
            throw new ApiException(429, d.exceeded(), "rate_limit_exceeded", null, d.message(), (int) d.retryAfterSeconds());
        }
        return d.permit();
    }

    /** The tokens the request really used (0 for an answer from the cache): they replace the estimate. */
    void settle(long tokens) {
        if (permit != null) {
            permit.settle(tokens);
        }
    }

    /** What the request really cost: it replaces what was reserved of the key's budget. */
    void settleCost(double costUsd) {
        reservation.settle(costUsd);
    }

    @Override
    public void close() {
        slot.close();
        reservation.release(); // a no-op once settled; never leaves money held
    }
}
