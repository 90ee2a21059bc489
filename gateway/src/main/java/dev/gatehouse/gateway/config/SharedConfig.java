package dev.gatehouse.gateway.config;

import com.fasterxml.jackson.databind.JsonNode;

import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * {@code shared:} in gatehouse.yaml: the Redis through which several Gatehouse instances share rate
 * and concurrency limits, budget reservations and the response cache. Without the section every
 * instance keeps its own in memory.
 *
 * @param servers     where Redis is: one server ({@code redis-url}), a master watched by Sentinel, or a cluster
 * @param onRedisDown what limits do while Redis does not answer
 * @param timeout     how long one Redis call (connect, or a command's answer) may take before it counts as down
 * @param keyPrefix   put before every key Gatehouse writes, so deployments can share one Redis
 * @param lease       how long a concurrency slot or budget reservation outlives an instance that died holding it
 */
public record SharedConfig(Servers servers, OnRedisDown onRedisDown, Duration timeout, String keyPrefix, Duration lease) {
    public static final Duration DEFAULT_TIMEOUT = Duration.ofMillis(250);
    public static final String DEFAULT_KEY_PREFIX = "gatehouse:";
    public static final Duration DEFAULT_LEASE = Duration.ofSeconds(60);
    private static final Pattern NODE = Pattern.compile("\\S+:\\d{1,5}");

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

    /** Where Redis is. */
    public sealed interface Servers {
        /** For logs: never a password. */
        String describe();
    }

    /** {@code redis-url}: one server; {@code redis://[user:password@]host[:port][/db]}, or {@code rediss://} for TLS. */
    public record Single(String url) implements Servers {
        @Override
        public String describe() {
            URI uri = URI.create(url);
            return uri.getScheme() + "://" + uri.getHost() + (uri.getPort() < 0 ? "" : ":" + uri.getPort())
                    + (uri.getPath() == null ? "" : uri.getPath());
        }

        @Override
        public String toString() {
            return describe();
        }
    }

    /**
     * {@code sentinel}: the master that the sentinels at {@code nodes} know as {@code master}, followed to
     * whichever replica they promote.
     */
    public record Sentinel(String master, List<String> nodes, Login login, String sentinelPassword) implements Servers {
        @Override
        public String describe() {
            return "sentinel master " + master + " via " + String.join(",", nodes);
        }

        @Override
        public String toString() {
            return describe();
        }
    }

    /** {@code cluster}: a Redis Cluster, found from any of {@code nodes}. */
    public record Cluster(List<String> nodes, Login login) implements Servers {
        @Override
        public String describe() {
            return "cluster " + String.join(",", nodes);
        }

        @Override
        public String toString() {
            return describe();
        }
    }

    /** How to sign in to the Redis servers of a sentinel set or a cluster (with redis-url: in the URL). */
    public record Login(String username, String password, boolean tls) {
        public static final Login NONE = new Login(null, null, false);

        @Override
        public String toString() {
            return "Login[" + username + (password == null ? "" : ", password set") + (tls ? ", tls" : "") + "]";
        }
    }

    /** Null without the section: nothing is shared. */
    static SharedConfig parse(JsonNode n, Map<String, String> env) {
        if (n.isMissingNode()) {
            return null;
        }
        GatehouseConfig.requireObject(n, "shared");
        GatehouseConfig.allowKeys(n, "shared", Set.of("redis-url", "sentinel", "cluster", "on-redis-down", "timeout-ms",
                "key-prefix", "lease-seconds"));
        if (Stream.of("redis-url", "sentinel", "cluster").filter(n::has).count() != 1) {
            throw new ConfigException("shared needs exactly one of redis-url (one server), sentinel or cluster");
        }
        Servers servers = n.has("sentinel") ? sentinel(n.get("sentinel"), env)
                : n.has("cluster") ? cluster(n.get("cluster"), env)
                : single(GatehouseConfig.expand(GatehouseConfig.requiredText(n, "redis-url", "shared"), env, "shared.redis-url"));
        OnRedisDown onDown = n.has("on-redis-down")
                ? OnRedisDown.parse(GatehouseConfig.text(n, "on-redis-down", "shared")) : OnRedisDown.LOCAL;
        Integer timeoutMs = GatehouseConfig.positive(n, "timeout-ms", "shared");
        String prefix = n.has("key-prefix") ? GatehouseConfig.text(n, "key-prefix", "shared") : DEFAULT_KEY_PREFIX;
        if (prefix.contains("{") || prefix.contains("}")) {
            throw new ConfigException("shared.key-prefix may not hold { or }: Gatehouse puts each caller's id in braces, "
                    + "so that a caller's keys share one cluster slot");
        }
        Integer leaseSeconds = GatehouseConfig.positive(n, "lease-seconds", "shared");
        return new SharedConfig(servers, onDown, timeoutMs == null ? DEFAULT_TIMEOUT : Duration.ofMillis(timeoutMs), prefix,
                leaseSeconds == null ? DEFAULT_LEASE : Duration.ofSeconds(leaseSeconds));
    }

    private static Single single(String url) {
        URI uri;
        try {
            uri = URI.create(url);
        } catch (IllegalArgumentException e) {
            throw new ConfigException("shared.redis-url is not a URL (redis://host:port)");
        }
        if (!"redis".equals(uri.getScheme()) && !"rediss".equals(uri.getScheme()) || uri.getHost() == null) {
            throw new ConfigException("shared.redis-url must be redis://host[:port][/db] or rediss://... (TLS)");
        }
        return new Single(url);
    }

    private static Sentinel sentinel(JsonNode n, Map<String, String> env) {
        String where = "shared.sentinel";
        GatehouseConfig.requireObject(n, where);
        GatehouseConfig.allowKeys(n, where, Set.of("master", "nodes", "username", "password", "sentinel-password", "tls"));
        return new Sentinel(expanded(n, "master", env, where), nodes(n, env, where), login(n, env, where),
                n.has("sentinel-password") ? expanded(n, "sentinel-password", env, where) : null);
    }

    private static Cluster cluster(JsonNode n, Map<String, String> env) {
        String where = "shared.cluster";
        GatehouseConfig.requireObject(n, where);
        GatehouseConfig.allowKeys(n, where, Set.of("nodes", "username", "password", "tls"));
        return new Cluster(nodes(n, env, where), login(n, env, where));
    }

    private static Login login(JsonNode n, Map<String, String> env, String where) {
        return new Login(n.has("username") ? expanded(n, "username", env, where) : null,
                n.has("password") ? expanded(n, "password", env, where) : null,
                GatehouseConfig.bool(n, "tls", where, false));
    }

    /** {@code nodes}: a non-empty list of host:port. */
    private static List<String> nodes(JsonNode n, Map<String, String> env, String where) {
        JsonNode list = n.path("nodes");
        String wrong = where + ".nodes must be a list of host:port, e.g. [redis-0:6379, redis-1:6379]";
        if (!list.isArray() || list.isEmpty()) {
            throw new ConfigException(wrong);
        }
        List<String> nodes = new ArrayList<>();
        for (JsonNode node : list) {
            String text = node.isTextual() ? GatehouseConfig.expand(node.asText(), env, where + ".nodes") : "";
            if (!NODE.matcher(text).matches() || Integer.parseInt(text.substring(text.lastIndexOf(':') + 1)) > 65535) {
                throw new ConfigException(wrong + " ('" + (node.isTextual() ? node.asText() : node.toString()) + "' is not)");
            }
            nodes.add(text);
        }
        return List.copyOf(nodes);
    }

    private static String expanded(JsonNode n, String key, Map<String, String> env, String where) {
        return GatehouseConfig.expand(GatehouseConfig.requiredText(n, key, where), env, where + "." + key);
    }

    /** Where Redis is, for logs: never a password. */
    public String describe() {
        return servers.describe();
    }

    @Override
    public String toString() {
        return "SharedConfig[" + describe() + ", on-redis-down " + onRedisDown + ", timeout " + timeout.toMillis()
                + " ms, key-prefix " + keyPrefix + ", lease " + lease.toSeconds() + " s]";
    }
}
