package dev.gatehouse.gateway.shared;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * What this instance holds in Redis for requests in flight (concurrency slots, budget reservations),
 * each as an id in a sorted set scored by when its lease ends. A background thread renews them every
 * {@link #RENEW_MILLIS}, so a long stream keeps its slot; an instance that dies stops renewing, and
 * what it held is freed by the next request to look, within {@link #LEASE_MILLIS}.
 */
final class Leases implements AutoCloseable {
    static final long LEASE_MILLIS = 60_000;
    static final long RENEW_MILLIS = 20_000;

    /** The sorted set an id is in, and the keys that live as long as it. */
    private record Holder(String set, List<String> alongside) {}

    private final Redis redis;
    private final Redis.Script renew = Redis.Script.load("lease-renew");
    private final Map<String, Holder> held = new ConcurrentHashMap<>();
    private final ScheduledExecutorService renewer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("redis-leases").daemon().factory());

    Leases(Redis redis) {
        this.redis = redis;
        renewer.scheduleWithFixedDelay(this::renewAll, RENEW_MILLIS, RENEW_MILLIS, TimeUnit.MILLISECONDS);
    }

    void hold(String id, String set, String... alongside) {
        held.put(id, new Holder(set, List.of(alongside)));
    }

    void release(String id) {
        held.remove(id);
    }

    /** Ids held now in sets whose key ends with {@code suffix}. */
    int count(String suffix) {
        return (int) held.values().stream().filter(h -> h.set().endsWith(suffix)).count();
    }

    private void renewAll() {
        Map<Holder, List<String>> bySet = new LinkedHashMap<>();
        held.forEach((id, holder) -> bySet.computeIfAbsent(holder, h -> new ArrayList<>()).add(id));
        bySet.forEach((holder, ids) -> {
            List<String> keys = new ArrayList<>();
            keys.add(holder.set());
            keys.addAll(holder.alongside());
            List<String> args = new ArrayList<>();
            args.add(String.valueOf(LEASE_MILLIS));
            args.addAll(ids);
            try {
                redis.eval(renew, keys, args);
            } catch (Redis.Unavailable e) {
                // logged once by Redis; leases that end meanwhile are freed, which only admits more
            }
        });
    }

    @Override
    public void close() {
        renewer.shutdownNow();
    }
}
