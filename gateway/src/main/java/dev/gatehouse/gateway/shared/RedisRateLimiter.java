package dev.gatehouse.gateway.shared;

import dev.gatehouse.gateway.policy.RateLimiter;

import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@link RateLimiter} shared by every instance through Redis: each key's window is a sorted set,
 * checked and added to in one script (rate-acquire.lua), so two instances can never both take the
 * last request of a minute. While Redis is down, {@code local} counts for this instance alone (or the
 * request is refused, with {@code on-redis-down: closed}).
 */
public final class RedisRateLimiter implements RateLimiter {
    private static final long WINDOW_MILLIS = TimeUnit.NANOSECONDS.toMillis(WINDOW_NANOS);

    private final Redis redis;
    private final RateLimiter local;
    private final Redis.Script acquire = Redis.Script.load("rate-acquire");
    private final Redis.Script settle = Redis.Script.load("rate-settle");

    public RedisRateLimiter(Redis redis, RateLimiter local) {
        this.redis = redis;
        this.local = local;
    }

    @Override
    public Decision acquire(String keyId, Integer rpm, Integer tpm, long estimatedTokens) {
        return redis.orLocal(() -> shared(keyId, rpm, tpm, estimatedTokens),
                () -> local.acquire(keyId, rpm, tpm, estimatedTokens));
    }

    @Override
    public Map<String, String> peek(String keyId, Integer rpm, Integer tpm) {
        return redis.orElse(() -> RateLimiter.headers(rpm, tpm, run(keyId, rpm, tpm, 0, "", true).window()),
                () -> local.peek(keyId, rpm, tpm));
    }

    private Decision shared(String keyId, Integer rpm, Integer tpm, long estimatedTokens) {
        String id = redis.newId();
        Answer a = run(keyId, rpm, tpm, estimatedTokens, id, false);
        if (a.outcome().equals("ok")) {
            String tokens = redis.key(keyId, "rate-tokens");
            Permit permit = actual -> {
                try {
                    redis.eval(settle, List.of(tokens), List.of(id, String.valueOf(actual)));
                } catch (Redis.Unavailable e) {
                    // the estimate stays in the window until it leaves
                }
            };
            return Decision.admitted(permit, rpm, tpm, a.window());
        }
        return Decision.refused(a.outcome(), TimeUnit.MILLISECONDS.toNanos(a.waitMillis()), rpm, tpm, estimatedTokens, a.window());
    }

    private record Answer(String outcome, Window window, long waitMillis) {}

    private Answer run(String keyId, Integer rpm, Integer tpm, long estimatedTokens, String id, boolean peek) {
        List<?> r = (List<?>) redis.eval(acquire, List.of(redis.key(keyId, "rate"), redis.key(keyId, "rate-tokens")),
                List.of(limit(rpm), limit(tpm), String.valueOf(estimatedTokens), String.valueOf(WINDOW_MILLIS), id,
                        peek ? "1" : "0"));
        Window window = new Window((int) (long) (Long) r.get(1), (Long) r.get(2),
                TimeUnit.MILLISECONDS.toNanos((Long) r.get(4)));
        return new Answer((String) r.get(0), window, (Long) r.get(3));
    }

    private static String limit(Integer limit) {
        return limit == null ? "-1" : String.valueOf(limit);
    }
}
