package dev.gatehouse.gateway.backend.gemini;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.backend.ProviderHttp;
import dev.gatehouse.gateway.chat.ApiException;

import java.io.IOException;

/**
 * Google's errors ({@code {"error":{"code":429,"message":...,"status":"RESOURCE_EXHAUSTED"}}}) in
 * OpenAI's shape. A refused key is Gatehouse's problem, not the client's: Gemini says so with a
 * 400 whose details name API_KEY_INVALID, or 401/403; those become 502 so the router moves on.
 */
final class GeminiErrors {
    private GeminiErrors() {}

    static ApiException fromResponse(String provider, String apiKey, int status, byte[] body, Integer retryAfterSeconds) {
        JsonNode error = parse(body).path("error");
        String message = ProviderHttp.redact(error.path("message").asText(""), apiKey);
        boolean badKey = error.path("details").findValuesAsText("reason").contains("API_KEY_INVALID");
        if (status == 401 || status == 403 || badKey) {
            return new ApiException(502, "server_error", "upstream_auth_failed", null,
                    "Provider '" + provider + "' refused Gatehouse's credentials (HTTP " + status + ").", null);
        }
        if (status == 429) {
            return new ApiException(429, "requests", "rate_limit_exceeded", null,
                    "Provider '" + provider + "': " + message, retryAfterSeconds);
        }
        if (status >= 500) {
            return new ApiException(status, "server_error", null, null, "Provider '" + provider + "': " + message, null);
        }
        return new ApiException(status, "invalid_request_error", null, null,
                message.isEmpty() ? "Provider '" + provider + "' answered HTTP " + status + "." : message, null);
    }

    private static JsonNode parse(byte[] body) {
        try {
            return GeminiRequestTranslator.MAPPER.readTree(body);
        } catch (IOException e) {
            return GeminiRequestTranslator.MAPPER.createObjectNode();
        }
    }
}
