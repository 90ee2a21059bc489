package dev.gatehouse.gateway.server;

import dev.gatehouse.gateway.api.openai.OpenAiApi;
import dev.gatehouse.gateway.chat.ApiException;
import io.helidon.http.HeaderNames;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;

/**
 * {@code GET /metrics} in Prometheus' text format. Open unless {@code metrics.token} is set; then a
 * scrape must send {@code Authorization: Bearer <token>} (Prometheus: {@code authorization:
 * credentials}), compared in constant time, and anything else gets a 401 in the API's error shape.
 */
final class MetricsEndpoint {
    private final PrometheusMeterRegistry registry;
    private final byte[] expected; // "Bearer <token>", null when open

    MetricsEndpoint(PrometheusMeterRegistry registry, String token) {
        this.registry = registry;
        this.expected = token == null ? null : ("Bearer " + token).getBytes(StandardCharsets.UTF_8);
    }

    void handle(ServerRequest req, ServerResponse res) {
        if (expected != null) {
            String presented = req.headers().first(HeaderNames.AUTHORIZATION).orElse("");
            if (!MessageDigest.isEqual(expected, presented.getBytes(StandardCharsets.UTF_8))) {
                res.header(HeaderNames.WWW_AUTHENTICATE, "Bearer");
                OpenAiApi.send(res, new ApiException(401, "invalid_request_error", "invalid_api_key", null,
                        "/metrics needs Authorization: Bearer <metrics.token>.", null));
                return;
            }
        }
        res.header(HeaderNames.CONTENT_TYPE, "text/plain; version=0.0.4").send(registry.scrape());
    }
}
