package dev.gatehouse.gateway.policy;

/**
 * Requests in flight per key, refused past the key's {@code max-concurrent}.
 * {@link InMemoryConcurrencyLimiter} counts this instance's; {@code shared.RedisConcurrencyLimiter}
 * every instance's sharing one Redis.
 */
public interface ConcurrencyLimiter {
    /** A slot held while the request runs; closing it frees the slot. */
    interface Slot extends AutoCloseable {
        Slot NONE = () -> {};

        @Override
        void close();
    }

    /** A slot, or null when {@code max} are already running; a null {@code max} is unlimited. */
    Slot acquire(String keyId, Integer max);

    /** Slots held by requests of this instance now, over all keys (the metric gatehouse_policy_concurrency_held). */
    int held();
}
