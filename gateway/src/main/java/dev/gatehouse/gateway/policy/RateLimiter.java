package dev.gatehouse.gateway.policy;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Requests and tokens per minute per key (a key's id, or "jwt:" + user), as a sliding window: every
 * admitted request counts for 60 seconds with its token count, so a limit is exact at its threshold.
 * A null limit is unlimited. {@link InMemoryRateLimiter} counts for this instance;
 * {@code shared.RedisRateLimiter} for every instance sharing one Redis.
 */
public interface RateLimiter {
    long WINDOW_NANOS = TimeUnit.MINUTES.toNanos(1);

    /** Admits the request and records it, or refuses it without recording anything. */
    Decision acquire(String keyId, Integer rpm, Integer tpm, long estimatedTokens);

    /** The x-ratelimit-* headers for a response that consumed nothing (e.g. /v1/models). */
    Map<String, String> peek(String keyId, Integer rpm, Integer tpm);

    static RateLimiter system() {
        return new InMemoryRateLimiter(System::nanoTime);
    }

    /** One admitted request: its tokens start as the estimate and are replaced by real usage. */
    interface Permit {
        void settle(long actualTokens);
    }

    /** What a key's window holds now: requests, their tokens, and how long until the newest leaves it. */
    record Window(int requests, long tokens, long resetNanos) {}

    /**
     * The answer for one request. {@code exceeded} is null when admitted, else "requests" or
     * "tokens" (OpenAI's error type); {@code headers} are OpenAI's x-ratelimit-* for the response.
     */
    record Decision(Permit permit, String exceeded, long retryAfterSeconds, String message,
                    Map<String, String> headers) {
        public boolean allowed() {
            return exceeded == null;
        }

        /** Admitted; {@code window} counts the request itself. */
        public static Decision admitted(Permit permit, Integer rpm, Integer tpm, Window window) {
            return new Decision(permit, null, 0, null, RateLimiter.headers(rpm, tpm, window));
        }

        /** Refused for {@code type} ("requests" or "tokens"), to be tried again after {@code waitNanos}. */
        public static Decision refused(String type, long waitNanos, Integer rpm, Integer tpm, long estimatedTokens,
                                       Window window) {
            String message = type.equals("requests")
                    ? "Rate limit reached on requests per min (RPM): Limit " + rpm + ", Used " + window.requests() + ", Requested 1."
                    : "Rate limit reached on tokens per min (TPM): Limit " + tpm + ", Used " + window.tokens()
                            + ", Requested " + estimatedTokens + ".";
            long seconds = Math.max(1, ceilSeconds(waitNanos));
            return new Decision(null, type, seconds, message + " Please try again in " + seconds + "s.",
                    RateLimiter.headers(rpm, tpm, window));
        }
    }

    static Map<String, String> headers(Integer rpm, Integer tpm, Window window) {
        Map<String, String> h = new LinkedHashMap<>();
        // the whole window is back to its initial state once the newest request in it leaves
        String reset = ceilSeconds(window.resetNanos()) + "s";
        if (rpm != null) {
            h.put("x-ratelimit-limit-requests", String.valueOf(rpm));
            h.put("x-ratelimit-remaining-requests", String.valueOf(Math.max(0, rpm - window.requests())));
            h.put("x-ratelimit-reset-requests", reset);
        }
        if (tpm != null) {
            h.put("x-ratelimit-limit-tokens", String.valueOf(tpm));
            h.put("x-ratelimit-remaining-tokens", String.valueOf(Math.max(0, tpm - window.tokens())));
            h.put("x-ratelimit-reset-tokens", reset);
        }
        return h;
    }

    private static long ceilSeconds(long nanos) {
        return (Math.max(0, nanos) + TimeUnit.SECONDS.toNanos(1) - 1) / TimeUnit.SECONDS.toNanos(1);
    }
}
