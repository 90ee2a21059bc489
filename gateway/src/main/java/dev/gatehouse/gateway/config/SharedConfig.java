package dev.gatehouse.gateway.config;

import com.fasterxml.jackson.databind.JsonNode;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.Set;

/**
 * {@code shared:} in gatehouse.yaml: the Redis server through which several Gatehouse instances share
 * rate and concurrency limits, budget reservations and the response cache. Without the section every
 * instance keeps its own in memory.
 *
 * @param redisUrl    {@code redis://[user:password@]host[:port][/db]}, or {@code rediss://} for TLS
 * @param onRedisDown what limits do while Redis does not answer
 * @param timeout     how long one Redis call (connect, or a command's answer) may take before it counts as down
 * @param keyPrefix   put before every key Gatehouse writes, so deployments can share one Redis
 */
public record SharedConfig(String redisUrl, OnRedisDown onRedisDown, Duration timeout, String keyPrefix) {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMillis(250);
    public static final String DEFAULT_KEY_PREFIX = "gatehouse:";

    /** {@code on-redis-down}: each instance counts on its own ({@code local}, the default) or refuses limited requests with a 503. */
    public enum OnRedisDown {
        LOCAL, CLOSED;

        static OnRedisDown parse(String text) {
            return switch (text) {
                case "local" -> LOCAL;
                case "closed" -> CLOSED;
                default -> throw new ConfigException("shared.on-redis-down: '" + text + "' is not local or closed");
            };
        }
    }

    /** Null without the section: nothing is shared. */
    static SharedConfig parse(JsonNode n, Map<String, String> env) {
        if (n.isMissingNode()) {
            return null;
        }
        GatehouseConfig.requireObject(n, "shared");
        GatehouseConfig.allowKeys(n, "shared", Set.of("redis-url", "on-redis-down", "timeout-ms", "key-prefix"));
        String url = GatehouseConfig.expand(GatehouseConfig.requiredText(n, "redis-url", "shared"), env, "shared.redis-url");
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("shared.redis-url is not a URL (redis://host:port)");
        }
        if (!"redis".equals(uri.getScheme()) && !"rediss".equals(uri.getScheme()) || uri.getHost() == null) {
            throw new ConfigException("shared.redis-url must be redis://host[:port][/db] or rediss://... (TLS)");
        }
        OnRedisDown onDown = n.has("on-redis-down")
                ? OnRedisDown.parse(GatehouseConfig.text(n, "on-redis-down", "shared")) : OnRedisDown.LOCAL;
        Integer timeoutMs = GatehouseConfig.positive(n, "timeout-ms", "shared");
        String prefix = n.has("key-prefix") ? GatehouseConfig.text(n, "key-prefix", "shared") : DEFAULT_KEY_PREFIX;
        return new SharedConfig(url, onDown, timeoutMs == null ? DEFAULT_TIMEOUT : Duration.ofMillis(timeoutMs), prefix);
    }

    /** Where Redis is, for logs: the URL without credentials. */
    public String describe() {
        URI uri = URI.create(redisUrl);
        return uri.getScheme() + "://" + uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort())
                + (uri.getPath() == null ? "" : uri.getPath());
    }

    @Override
    public String toString() {
        return "SharedConfig[" + describe() + ", on-redis-down " + onRedisDown + ", timeout " + timeout.toMillis()
                + " ms, key-prefix " + keyPrefix + "]";
    }
}
