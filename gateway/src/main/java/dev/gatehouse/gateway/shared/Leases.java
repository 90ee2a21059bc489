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
 * third of a lease ({@code shared.lease-seconds}), so a long stream keeps its slot; an instance that
 * dies stops renewing, and what it held is freed by the next request to look once its lease ends.
 */
final class Leases implements AutoCloseable {
    /** The sorted set an id is in, and the keys that live as long as it. */
    private record Holder(String set, List<String> alongside) {}

    private final Redis redis;
    private final long millis;
    private final Redis.Script renew = Redis.Script.load("lease-renew");
    private final Map<String, Holder> held = new ConcurrentHashMap<>();
    private final ScheduledExecutorService renewer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().name("redis-leases").daemon().factory());

    Leases(Redis redis, long millis) {
        this.redis = redis;
        this.millis = millis;
        renewer.scheduleWithFixedDelay(this::renewAll, millis / 3, millis / 3, TimeUnit.MILLISECONDS);
    }

    /** How long a lease lasts unless renewed, as Redis is told it (text). */
    String millis() {
        return String.valueOf(millis);
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
            args.add(millis());
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
