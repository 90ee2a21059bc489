package dev.gatehouse.gateway.route;

import java.util.concurrent.ThreadLocalRandom;

/**
 * How long to wait before trying the last target again: the wait the provider asked for when it
 * gave one (Retry-After, retry-after-ms, Gemini's RetryInfo), else exponential (250 ms, 500 ms, ...)
 * with jitter so that clients failed together do not come back together. Never longer than {@link #CAP_MILLIS}: a provider asking for more gets its
 * 429 passed on, Retry-After and all, rather than holding the client's connection.
 */
final class Backoff {
    static final int MAX_RETRIES = dev.gatehouse.gateway.config.ProviderConfig.Failures.DEFAULT.retries();
    static final long BASE_MILLIS = 250;
    static final long CAP_MILLIS = 2_000;

    private Backoff() {}

    static Long delayMillis(int attempt, Long retryAfterMillis) {
        return delayMillis(attempt, MAX_RETRIES, retryAfterMillis);
    }

    /** The wait before retry number {@code attempt} (0-based) of {@code maxRetries}; null when not worth waiting for. */
    static Long delayMillis(int attempt, int maxRetries, Long retryAfterMillis) {
        if (attempt >= maxRetries) {
            return null;
        }
        if (retryAfterMillis != null) {
            return retryAfterMillis > CAP_MILLIS ? null : retryAfterMillis;
        }
        long ceiling = Math.min(CAP_MILLIS, BASE_MILLIS << attempt);
        return ThreadLocalRandom.current().nextLong(ceiling / 2, ceiling + 1);
    }
}
