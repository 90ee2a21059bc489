package dev.gatehouse.gateway.pipeline;

import dev.gatehouse.gateway.auth.ApiAuth;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.policy.ConcurrencyLimiter;
import dev.gatehouse.gateway.policy.RateLimiter;
import dev.gatehouse.gateway.usage.UsageRecorder;

import java.util.function.BiConsumer;

/**
 * What one request holds of its caller's limits. Before the handler runs: the key's budget, the
 * caller's requests in flight, its rpm and tpm (with OpenAI's x-ratelimit-* headers); over any of
 * them, a 429. After it: the concurrency slot is let go and the rate limiter's token estimate is
 * replaced by what the request really used. The master key and an open server have no limits.
 */
final class Admission implements AutoCloseable {
    private static final Admission UNLIMITED = new Admission(null, ConcurrencyLimiter.Slot.NONE, null);

    private final RateLimiter limiter;
    private final ConcurrencyLimiter.Slot slot;
    private final RateLimiter.Permit permit; // null when the caller has no rpm/tpm

    private Admission(RateLimiter limiter, ConcurrencyLimiter.Slot slot, RateLimiter.Permit permit) {
        this.limiter = limiter;
        this.slot = slot;
        this.permit = permit;
    }

    /** Admits the request or throws the 429 that says which limit it is over (and counts the refusal). */
    static Admission admit(ApiAuth auth, UsageRecorder usage, ApiAuth.Caller caller, long estimatedTokens,
                           BiConsumer<String, String> headers) {
        String id = caller.limitId();
        if (id == null) {
            return UNLIMITED;
        }
        try {
            usage.budgets().check(caller.key()); // budgets belong to virtual keys
        } catch (ApiException e) {
            usage.rejected(id, "budget");
            throw e;
        }
        ConcurrencyLimiter.Slot slot = auth.concurrency().acquire(id, caller.maxConcurrent());
        if (slot == null) {
            usage.rejected(id, "concurrency");
            throw new ApiException(429, "requests", "rate_limit_exceeded", null, "Too many concurrent requests for "
                    + (caller.key() != null ? "this API key" : "this user") + ": limit " + caller.maxConcurrent()
                    + ". Retry when one has finished.", 1);
        }
        try {
            return new Admission(auth.limiter(), slot, rate(auth.limiter(), usage, caller, estimatedTokens, headers));
        } catch (RuntimeException e) {
            slot.close();
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
            limiter.settle(permit, tokens);
        }
    }

    @Override
    public void close() {
        slot.close();
    }
}
