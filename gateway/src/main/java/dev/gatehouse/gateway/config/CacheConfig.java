package dev.gatehouse.gateway.config;

import java.time.Duration;

/**
 * {@code cache:} in gatehouse.yaml: the in-memory response cache. Off unless the section is there
 * (like LiteLLM). Answers are kept per caller (virtual key, JWT user) unless {@code shared: true}:
 * sharing them across callers lets one caller learn what another asked by timing or by
 * {@code x-gatehouse-cache: HIT}, which an operator should choose knowingly.
 *
 * @param ttl how long an answer stays servable after it was stored
 * @param maxBytes roughly how much memory the stored answers may take; the least useful go first beyond that
 * @param shared whether one caller's stored answer may serve another caller
 */
public record CacheConfig(boolean enabled, Duration ttl, long maxBytes, boolean shared) {
    public static final Duration DEFAULT_TTL = Duration.ofMinutes(10);
    public static final long DEFAULT_MAX_BYTES = 64L << 20;

    public static final CacheConfig OFF = new CacheConfig(false, DEFAULT_TTL, DEFAULT_MAX_BYTES, false);
}
