package dev.gatehouse.gateway.route;

import dev.gatehouse.gateway.chat.ApiException;

import java.util.List;

/**
 * The router's refusal after it passed over at least one target: {@link #error()} is what the
 * client hears (the last target's), {@link #fallbacks()} goes in the x-gatehouse-fallbacks header
 * so operators see what was tried and why.
 */
public final class RouteFailed extends RuntimeException {
    private final ApiException error;
    private final List<String> fallbacks;

    RouteFailed(ApiException error, List<String> fallbacks) {
        super(error.getMessage(), error, false, false);
        this.error = error;
        this.fallbacks = List.copyOf(fallbacks);
    }

    public ApiException error() {
        return error;
    }

    public List<String> fallbacks() {
        return fallbacks;
    }
}
