package dev.gatehouse.gateway.config;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Map;
import java.util.Set;

/**
 * {@code metrics:} in gatehouse.yaml.
 *
 * @param token when set, {@code GET /metrics} needs {@code Authorization: Bearer <token>}; null: open
 * @param labelSecret the HMAC key that turns JWT user names into metric labels; null: a random one per
 *     start (labels then change on restart; set it to keep series across restarts and replicas)
 */
public record MetricsConfig(String token, String labelSecret) {
    public static final MetricsConfig OPEN = new MetricsConfig(null, null);
    static final int MIN_SECRET_LENGTH = 16;

    static MetricsConfig parse(JsonNode n, Map<String, String> env) {
        if (n.isMissingNode()) {
            return OPEN;
        }
        GatehouseConfig.requireObject(n, "metrics");
        GatehouseConfig.allowKeys(n, "metrics", Set.of("token", "label-secret"));
        String token = n.has("token") ? GatehouseConfig.expand(GatehouseConfig.text(n, "token", "metrics"), env, "metrics.token") : null;
        String secret = n.has("label-secret")
                ? GatehouseConfig.expand(GatehouseConfig.text(n, "label-secret", "metrics"), env, "metrics.label-secret") : null;
        if (token != null && token.length() < MIN_SECRET_LENGTH || secret != null && secret.length() < MIN_SECRET_LENGTH) {
            throw new ConfigException("metrics.token and metrics.label-secret must be at least " + MIN_SECRET_LENGTH + " characters");
        }
        return new MetricsConfig(token, secret);
    }
}
