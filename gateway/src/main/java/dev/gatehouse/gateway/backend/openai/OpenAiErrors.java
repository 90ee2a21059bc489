package dev.gatehouse.gateway.backend.openai;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.backend.Credentials;
import dev.gatehouse.gateway.chat.ApiException;

import java.io.IOException;

/**
 * Upstream failures -> ApiException. The client's own mistakes (4xx) keep the provider's status,
 * type, code, param and message; failures that are not the client's (credentials Gatehouse holds,
 * 5xx, network) become 5xx naming the provider, so the router moves on and the client is not told
 * its own key is wrong. Nothing of the provider's key survives into a message.
 */
final class OpenAiErrors {
    private OpenAiErrors() {}

    static ApiException fromResponse(String provider, String apiKey, int status, byte[] body, Long retryAfterMillis) {
        JsonNode error = parse(body).path("error");
        String message = Credentials.scrub(error.path("message").asText(""), apiKey);
        if (status == 401 || status == 403) { // OpenAI's 401 quotes part of the key it was given
            return new ApiException(502, "server_error", "upstream_auth_failed", null,
                    "Provider '" + provider + "' refused Gatehouse's credentials (HTTP " + status + ").", null);
        }
        if (message.isEmpty()) {
            message = "Provider '" + provider + "' answered HTTP " + status + ".";
        }
        String type = text(error, "type", status >= 500 ? "server_error" : "invalid_request_error");
        if (status >= 500 || status == 429) {
            return ApiException.retryLater(status, type, text(error, "code", null),
                    "Provider '" + provider + "': " + message, retryAfterMillis);
        }
        return new ApiException(status, type, text(error, "code", null), text(error, "param", null), message, null);
    }

    /** An {@code error} object sent inside a stream, after the headers. */
    static ApiException inStream(String provider, String apiKey, JsonNode error) {
        return new ApiException(502, text(error, "type", "server_error"), text(error, "code", null), null,
                "Provider '" + provider + "': " + Credentials.scrub(error.path("message").asText("error in stream"), apiKey), null);
    }

    private static String text(JsonNode n, String field, String fallback) {
        JsonNode v = n.path(field);
        return v.isValueNode() && !v.isNull() ? v.asText() : fallback;
    }

    private static JsonNode parse(byte[] body) {
        try {
            return OpenAiRequestTranslator.MAPPER.readTree(body);
        } catch (IOException e) {
            return OpenAiRequestTranslator.MAPPER.createObjectNode(); // an HTML error page from a proxy, say
        }
    }
}
