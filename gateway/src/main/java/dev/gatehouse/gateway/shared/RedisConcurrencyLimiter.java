package dev.gatehouse.gateway.shared;

import dev.gatehouse.gateway.policy.ConcurrencyLimiter;

import java.util.List;

/**
 * {@link ConcurrencyLimiter} shared by every instance through Redis: each key's slots are leases in a
 * sorted set (slot-acquire.lua), renewed while the request runs (see {@link Leases}), so the slots of
 * an instance that died are freed when their lease ends ({@code shared.lease-seconds}). While Redis is
 * down, {@code local} counts for this instance alone (or the request is refused, with {@code on-redis-down: closed}).
 */
public final class RedisConcurrencyLimiter implements ConcurrencyLimiter {
    private static final String SLOTS = "slots";

    private final Redis redis;
    private final ConcurrencyLimiter local;
    private final Redis.Script acquire = Redis.Script.load("slot-acquire");

    public RedisConcurrencyLimiter(Redis redis, ConcurrencyLimiter local) {
        this.redis = redis;
        this.local = local;
    }

    @Override
    public Slot acquire(String keyId, Integer max) {
        if (max == null) {
            return Slot.NONE;
        }
        return redis.orLocal(() -> shared(keyId, max), () -> local.acquire(keyId, max));
    }

    private Slot shared(String keyId, int max) {
        String set = redis.key(keyId, SLOTS);
        String id = redis.newId();
        Long taken = (Long) redis.eval(acquire, List.of(set), List.of(String.valueOf(max), id, redis.leases().millis()));
        if (taken == 0) {
            return null;
        }
        redis.leases().hold(id, set);
        return () -> {
            redis.leases().release(id);
            try {
                redis.call(c -> c.zrem(set, id));
            } catch (Redis.Unavailable e) {
                // its lease ends (shared.lease-seconds)
            }
        };
    }

    @Override
    public int held() {
        return redis.leases().count(":" + SLOTS) + local.held();
    }
}
