package dev.gatehouse.gateway.shared;

import dev.gatehouse.gateway.cache.AnswerStore;
import dev.gatehouse.gateway.chat.ChatEvent;
import dev.gatehouse.gateway.config.CacheConfig;
import redis.clients.jedis.ScanIteration;
import redis.clients.jedis.params.SetParams;

import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.List;

/**
 * The response cache's answers in Redis, so an answer stored by one instance serves the same request
 * at another: JSON under the cache key, expiring after {@code cache.ttl-seconds}. An answer bigger than
 * {@code cache.max-mb} is not kept; the total is bounded by Redis's own {@code maxmemory}. While Redis is
 * down every lookup misses and nothing is stored.
 */
public final class RedisAnswers implements AnswerStore {
    private final Redis redis;
    private final CacheConfig config;

    public RedisAnswers(Redis redis, CacheConfig config) {
        this.redis = redis;
        this.config = config;
    }

    @Override
    public List<ChatEvent> get(String key) {
        byte[] json = redis.orElse(() -> redis.call(c -> c.get(bytes(redis.cacheKey(key)))), () -> null);
        return json == null ? null : AnswerJson.read(json);
    }

    @Override
    public void put(String key, List<ChatEvent> events) {
        byte[] json = AnswerJson.write(events);
        if (json.length > config.maxBytes()) {
            return;
        }
        redis.orElse(() -> redis.call(c -> c.set(bytes(redis.cacheKey(key)), json,
                SetParams.setParams().px(config.ttl().toMillis()))), () -> null);
    }

    @Override
    public void forget(String model) {
        String pattern = glob(redis.cacheKey(model + "\n")) + "*";
        redis.orElse(() -> redis.call(c -> {
            ScanIteration keys = c.scanIteration(1000, pattern); // each master of a cluster in turn
            while (!keys.isIterationCompleted()) {
                Collection<String> page = keys.nextBatchList();
                if (!page.isEmpty()) {
                    c.unlink(page.toArray(String[]::new)); // a cluster's client sends each master its own
                }
            }
            return null;
        }), () -> null);
    }

    /** {@code text} matched literally by SCAN's glob. */
    private static String glob(String text) {
        return text.replaceAll("([\\\\*?\\[\\]^-])", "\\\\$1");
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }
}
