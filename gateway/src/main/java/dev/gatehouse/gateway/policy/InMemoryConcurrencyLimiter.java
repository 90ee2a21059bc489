package dev.gatehouse.gateway.policy;

import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/** {@link ConcurrencyLimiter} for this instance alone: a counter per key. */
public final class InMemoryConcurrencyLimiter implements ConcurrencyLimiter {
    private final Map<String, AtomicInteger> running = new ConcurrentHashMap<>();

    @Override
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

    @Override
    public int held() {
        return running.values().stream().mapToInt(AtomicInteger::get).sum();
    }
}
