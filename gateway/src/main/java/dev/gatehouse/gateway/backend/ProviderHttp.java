package dev.gatehouse.gateway.backend;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.gateway.chat.ApiException;
import dev.gatehouse.gateway.config.ProviderConfig;

import java.io.IOException;
import java.io.InputStream;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;

/**
 * The HTTP side every cloud backend shares: one client per provider, and the mapping of transport
 * trouble to the gateway's errors (timeout 504, unreachable 502, not JSON 502). What differs per
 * provider — its URL, headers, bodies and error shapes — stays in the provider's own folder.
 */
public final class ProviderHttp {
    public static final ObjectMapper MAPPER = new ObjectMapper();

    private final String provider;
    private final HttpClient http;

    public ProviderHttp(ProviderConfig config) {
        this.provider = config.name();
        this.http = HttpClient.newBuilder()
                .connectTimeout(Duration.ofMillis(Math.min(config.timeoutMillis(), 10_000)))
                .build();
    }

    public HttpResponse<InputStream> send(HttpRequest request) {
        try {
            return http.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (IOException e) {
            throw fromIo(provider, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ApiException(503, "server_error", null, null, "Interrupted while waiting for the provider.", null);
        }
    }

    public byte[] readAll(InputStream in) {
        try (in) {
            return in.readAllBytes();
        } catch (IOException e) {
            throw fromIo(provider, e);
        }
    }

    public JsonNode parse(byte[] body) {
        try {
            return MAPPER.readTree(body);
        } catch (IOException e) {
            throw new ApiException(502, "server_error", "upstream_bad_response", null,
                    "Provider '" + provider + "' answered with a body that is not JSON.", null);
        }
    }

    public static byte[] bytes(JsonNode node) {
        try {
            return MAPPER.writeValueAsBytes(node);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Retry-After in whole seconds, when the provider sent one. */
    public static Integer retryAfter(HttpResponse<?> response) {
        try {
            return response.headers().firstValue("retry-after").map(v -> Integer.parseInt(v.trim())).orElse(null);
        } catch (NumberFormatException e) {
            return null;
        }
    }

    /** A transport failure: timeouts and stalled streams are 504, anything else 502 (the router may fall back). */
    public static ApiException fromIo(String provider, IOException e) {
        if (e instanceof HttpTimeoutException || e instanceof SseLines.StalledException) {
            return new ApiException(504, "server_error", "upstream_timeout", null,
                    "Provider '" + provider + "' did not answer in time.", null);
        }
        return new ApiException(502, "server_error", "upstream_unavailable", null,
                "Provider '" + provider + "' could not be reached or dropped the connection.", null);
    }

    /** A provider's error text with our key taken out: some providers quote the key they refused. */
    public static String redact(String text, String apiKey) {
        return apiKey == null || apiKey.isEmpty() ? text : text.replace(apiKey, "***");
    }
}
