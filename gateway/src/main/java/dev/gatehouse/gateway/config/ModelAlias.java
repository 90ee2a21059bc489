package dev.gatehouse.gateway.config;

/**
 * An entry of {@code aliases:}: another name for the route {@code route}, pinned to {@code version}
 * (null: whatever the route serves when asked without one).
 */
public record ModelAlias(String route, String version) {}
