package dev.gatehouse.gateway.backend.anthropic;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.backend.Credentials;
import dev.gatehouse.gateway.chat.ApiException;

import java.io.IOException;

/**
 * Anthropic's errors ({@code {"type":"error","error":{"type":"overloaded_error","message":...}}})
 * in OpenAI's shape. 529 overloaded becomes 503 (OpenAI's clients know no 529); credentials
 * Gatehouse holds and network failures become 502, so the router moves on; the client's own
 * mistakes keep their 4xx.
 */
final class AnthropicErrors {
    private AnthropicErrors() {}

    static ApiException fromResponse(String provider, String apiKey, int status, byte[] body, Long retryAfterMillis) {
        JsonNode error = parse(body).path("error");
        String type = error.path("type").asText("");
        String message = Credentials.scrub(error.path("message").asText(""), apiKey);
        if (status == 401 || status == 403) {
            return new ApiException(502, "server_error", "upstream_auth_failed", null,
                    "Provider '" + provider + "' refused Gatehouse's credentials (HTTP " + status + ").", null);
        }
        if (status == 529 || type.equals("overloaded_error")) {
            return ApiException.retryLater(503, "server_error", "server_overloaded",
                    "Provider '" + provider + "' is overloaded: " + message, retryAfterMillis);
        }
        if (status == 429) {
            return ApiException.retryLater(429, "requests", "rate_limit_exceeded",
                    "Provider '" + provider + "': " + message, retryAfterMillis);
        }
        if (status >= 500) {
            return new ApiException(status, "server_error", null, null, "Provider '" + provider + "': " + message, null);
        }
        if (status == 400 && type.equals("invalid_request_error") && message.startsWith("prompt is too long")) {
            return ApiException.contextLength("messages", message); // "prompt is too long: 208656 tokens > 200000 maximum"
        }
        return new ApiException(status, "invalid_request_error", null, null,
                message.isEmpty() ? "Provider '" + provider + "' answered HTTP " + status + "." : message, null);
    }

    /** An error event inside a stream (after the headers): overloaded_error is the usual one. */
    static ApiException inStream(String provider, String apiKey, JsonNode error) {
        boolean overloaded = error.path("type").asText().equals("overloaded_error");
        return new ApiException(overloaded ? 503 : 502, "server_error", overloaded ? "server_overloaded" : null, null,
                "Provider '" + provider + "': " + Credentials.scrub(error.path("message").asText("error in stream"), apiKey), null);
    }

    private static JsonNode parse(byte[] body) {
        try {
            return AnthropicRequestTranslator.MAPPER.readTree(body);
        } catch (IOException e) {
            return AnthropicRequestTranslator.MAPPER.createObjectNode();
        }
    }
}
