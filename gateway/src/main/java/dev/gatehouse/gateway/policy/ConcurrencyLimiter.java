package dev.gatehouse.gateway.policy;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** Requests in flight per key, refused past the key's {@code max-concurrent}. */
public final class ConcurrencyLimiter {
    /** A slot held while the request runs; closing it frees the slot. */
    public interface Slot extends AutoCloseable {
        Slot NONE = () -> {};

        @Override
        void close();
    }

    private final Map<String, AtomicInteger> running = new ConcurrentHashMap<>();

    /** A slot, or null when {@code max} are already running; a null {@code max} is unlimited. */
    public Slot acquire(String keyId, Integer max) {
        if (max == null) {
            return Slot.NONE;
        }
        AtomicInteger n = running.computeIfAbsent(keyId, k -> new AtomicInteger());
        if (n.incrementAndGet() > max) {
            n.decrementAndGet();
            return null;
        }
        return n::decrementAndGet;
    }

    /** Slots held now, over all keys (the metric gatehouse_policy_concurrency_held). */
    public int held() {
        return running.values().stream().mapToInt(AtomicInteger::get).sum();
    }
}
