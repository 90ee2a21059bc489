package dev.gatehouse.gateway.config;

import com.fasterxml.jackson.databind.JsonNode;

import java.time.Duration;
import java.util.Set;

/**
 * {@code server:} in gatehouse.yaml: how long a client may take and how many it may be. A client
 * that is too slow is disconnected (and what it was generating is cancelled); past the counts, new
 * connections wait in the kernel's accept queue and new requests get a 503.
 *
 * @param idleTimeout a connection that has not sent a whole request line this long after it opened
 *                    or after its last answer is closed (idle keep-alive and a trickled request line)
 * @param headerTimeout from the end of the request line to the end of the headers
 * @param bodyTimeout from the end of the headers to the end of the request body
 * @param writeTimeout how long one write of the response (an SSE event, a whole answer) may wait for
 *                     a client that reads nothing
 * @param maxConnections open connections; more wait to be accepted
 * @param maxRequests requests being answered at once, over all connections; more get a 503
 * @param authFailuresPerMinute 401 and 403 answers one client address may get a minute; past it, 429s
 */
public record ServerLimits(Duration idleTimeout, Duration headerTimeout, Duration bodyTimeout, Duration writeTimeout,
                           int maxConnections, int maxRequests, int authFailuresPerMinute) {
    public static final ServerLimits DEFAULTS = new ServerLimits(Duration.ofSeconds(60), Duration.ofSeconds(30),
            Duration.ofSeconds(60), Duration.ofSeconds(60), 2048, 1024, 20);

    static ServerLimits parse(JsonNode n) {
        if (n.isMissingNode()) {
            return DEFAULTS;
        }
        GatehouseConfig.requireObject(n, "server");
        GatehouseConfig.allowKeys(n, "server", Set.of("idle-timeout-seconds", "header-timeout-seconds",
                "body-timeout-seconds", "write-timeout-seconds", "max-connections", "max-requests",
                "auth-failures-per-minute"));
        return new ServerLimits(seconds(n, "idle-timeout-seconds", DEFAULTS.idleTimeout),
                seconds(n, "header-timeout-seconds", DEFAULTS.headerTimeout),
                seconds(n, "body-timeout-seconds", DEFAULTS.bodyTimeout),
                seconds(n, "write-timeout-seconds", DEFAULTS.writeTimeout),
                count(n, "max-connections", DEFAULTS.maxConnections), count(n, "max-requests", DEFAULTS.maxRequests),
                count(n, "auth-failures-per-minute", DEFAULTS.authFailuresPerMinute));
    }

    private static Duration seconds(JsonNode n, String key, Duration fallback) {
        Integer s = GatehouseConfig.positive(n, key, "server");
        return s == null ? fallback : Duration.ofSeconds(s);
    }

    private static int count(JsonNode n, String key, int fallback) {
        Integer c = GatehouseConfig.positive(n, key, "server");
        return c == null ? fallback : c;
    }
}
