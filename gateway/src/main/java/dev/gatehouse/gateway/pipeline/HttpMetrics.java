package dev.gatehouse.gateway.pipeline;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Requests by route, model and status, with a latency histogram (Prometheus: gatehouse_http_requests_seconds). */
public final class HttpMetrics {
    private final MeterRegistry registry;

    public HttpMetrics(MeterRegistry registry) {
        this.registry = registry;
    }

    public void request(String route, String model, int status, long nanos) {
        Timer.builder("gatehouse.http.requests")
                .description("HTTP requests to the API")
                .tag("route", route)
                .tag("model", model == null ? "none" : model)
                .tag("status", String.valueOf(status))
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofMinutes(5))
                .register(registry)
                .record(nanos, TimeUnit.NANOSECONDS);
    }
}
