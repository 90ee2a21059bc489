package dev.gatehouse.gateway.route;

import dev.gatehouse.gateway.metrics.MeterCache;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * What the router did, for Prometheus. Tags name backends as {@code local:FOLDER} or the provider's
 * name from gatehouse.yaml, never a model name a client typed, so the series stay few.
 */
final class RouteMetrics {
    private final MeterRegistry registry;
    private final MeterCache<Timer> attempts;
    private final MeterCache<Timer> answers;
    private final MeterCache<Counter> routes;

    RouteMetrics(MeterRegistry registry) {
        this.registry = registry;
        this.attempts = new MeterCache<>(tags -> Timer.builder("gatehouse.backend.requests")
                .description("Requests tried on each backend, timed to the first event or the failure")
                .tag("backend", tags.get(0))
                .tag("outcome", tags.get(1))
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofMinutes(5))
                .register(registry));
        this.answers = new MeterCache<>(tags -> Timer.builder("gatehouse.backend.answers")
                .description("Answers each backend served, timed from its try to the end of the answer")
                .tag("backend", tags.get(0))
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofMinutes(10))
                .register(registry));
        this.routes = new MeterCache<>(tags -> Counter.builder("gatehouse.route.requests")
                .description("Requests served, by route, rule and backend")
                .tag("route", tags.get(0)).tag("rule", tags.get(1)).tag("backend", tags.get(2)).register(registry));
    }

    /** One try of one backend: how long until its first event, or its failure (outcome: ok or the HTTP status). */
    void attempt(String backend, String outcome, long nanos) {
        attempts.get(backend, outcome).record(nanos, TimeUnit.NANOSECONDS);
    }

    /** One answer a backend served, from the start of its try to the end of the answer (whole or streamed). */
    void answered(String backend, long nanos) {
        answers.get(backend).record(nanos, TimeUnit.NANOSECONDS);
    }

    /**
     * One request a target took, by the route, the rule that picked the target ({@code default} for the
     * route's own) and the backend: rule names come from gatehouse.yaml only, so the series stay few.
     */
    void routed(String route, String rule, String backend) {
        routes.get(route, rule, backend).increment();
    }

    /** A backend passed over, and why: an HTTP status, queue_full, queue_wait, circuit_open, unavailable,
     * context_length_exceeded, context_too_small, unsupported. */
    void fallback(String backend, String reason) {
        Counter.builder("gatehouse.route.fallbacks").description("Backends passed over, by reason")
                .tag("backend", backend).tag("reason", reason).register(registry).increment();
    }

    /** A request that a busy local engine sent to the next target. */
    void spill(String backend) {
        Counter.builder("gatehouse.route.spills").description("Requests sent past a busy local engine")
                .tag("backend", backend).register(registry).increment();
    }

    /** 0 closed, 1 half-open, 2 open. */
    void breaker(String provider, CircuitBreaker breaker) {
        Gauge.builder("gatehouse.route.circuit.state", breaker, b -> switch (b.state()) {
                    case CLOSED -> 0;
                    case HALF_OPEN -> 1;
                    case OPEN -> 2;
                })
                .description("Circuit breaker per provider: 0 closed, 1 half-open, 2 open")
                .tag("provider", provider).strongReference(true).register(registry);
    }
}
