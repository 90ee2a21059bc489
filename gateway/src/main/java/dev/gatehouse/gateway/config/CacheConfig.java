package dev.gatehouse.gateway.config;

import java.time.Duration;

/**
 * {@code cache:} in gatehouse.yaml: the in-memory response cache. Off unless the section is there
 * (like LiteLLM): cached answers are shared by every caller of a model, which an operator should
 * choose knowingly. With the section, it is on unless {@code enabled: false}.
 *
 * @param ttl how long an answer stays servable after it was stored
 * @param maxEntries how many answers are kept; the least useful go first beyond that
 */
public record CacheConfig(boolean enabled, Duration ttl, long maxEntries) {
    public static final Duration DEFAULT_TTL = Duration.ofMinutes(10);
    public static final long DEFAULT_MAX_ENTRIES = 1_000;

    public static final CacheConfig OFF = new CacheConfig(false, DEFAULT_TTL, DEFAULT_MAX_ENTRIES);
}
