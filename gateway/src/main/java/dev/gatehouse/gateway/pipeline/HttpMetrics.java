package dev.gatehouse.gateway.pipeline;

import dev.gatehouse.gateway.metrics.MeterCache;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** Requests by route, model and status, with a latency histogram (Prometheus: gatehouse_http_requests_seconds). */
public final class HttpMetrics {
    private final MeterCache<Timer> requests;

    public HttpMetrics(MeterRegistry registry) {
        this.requests = new MeterCache<>(tags -> Timer.builder("gatehouse.http.requests")
                .description("HTTP requests to the API")
                .tag("route", tags.get(0))
                .tag("model", tags.get(1))
                .tag("status", tags.get(2))
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1))
                .maximumExpectedValue(Duration.ofMinutes(5))
                .register(registry));
    }

    public void request(String route, String model, int status, long nanos) {
        requests.get(route, model == null ? "none" : model, String.valueOf(status)).record(nanos, TimeUnit.NANOSECONDS);
    }
}
