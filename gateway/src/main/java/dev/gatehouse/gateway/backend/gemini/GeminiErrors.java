package dev.gatehouse.gateway.backend.gemini;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.backend.Credentials;
import dev.gatehouse.gateway.chat.ApiException;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.regex.Pattern;

/**
 * Google's errors ({@code {"error":{"code":429,"message":...,"status":"RESOURCE_EXHAUSTED"}}}) in
 * OpenAI's shape. A refused key is Gatehouse's problem, not the client's: Gemini says so with a
 * 400 whose details name API_KEY_INVALID, or 401/403; those become 502 so the router moves on.
 */
final class GeminiErrors {
    /** "The input token count (1200293) exceeds the maximum number of tokens allowed (1048576)." */
    private static final Pattern INPUT_TOO_LONG = Pattern.compile("input token count.*exceeds the maximum number of tokens",
            Pattern.CASE_INSENSITIVE);
    private GeminiErrors() {}

    static ApiException fromResponse(String provider, String apiKey, int status, byte[] body, Long retryAfterMillis) {
        JsonNode error = parse(body).path("error");
        String message = Credentials.scrub(error.path("message").asText(""), apiKey);
        boolean badKey = error.path("details").findValuesAsText("reason").contains("API_KEY_INVALID");
        if (status == 401 || status == 403 || badKey) {
            return new ApiException(502, "server_error", "upstream_auth_failed", null,
                    "Provider '" + provider + "' refused Gatehouse's credentials (HTTP " + status + ").", null);
        }
        if (status == 429) {
            return ApiException.retryLater(429, "requests", "rate_limit_exceeded",
                    "Provider '" + provider + "': " + message, retryAfterMillis != null ? retryAfterMillis : retryDelayMillis(error));
        }
        if (status >= 500) {
            return new ApiException(status, "server_error", null, null, "Provider '" + provider + "': " + message, null);
        }
        if (status == 400 && error.path("status").asText().equals("INVALID_ARGUMENT") && INPUT_TOO_LONG.matcher(message).find()) {
            return ApiException.contextLength("messages", message);
        }
        return new ApiException(status, "invalid_request_error", null, null,
                message.isEmpty() ? "Provider '" + provider + "' answered HTTP " + status + "." : message, null);
    }

    /**
     * The wait a 429's {@code google.rpc.RetryInfo} detail asks for, e.g. {@code "retryDelay": "1.5s"}
     * (a protobuf Duration in JSON: seconds with up to 9 decimals and an "s"); null when it has none.
     */
    static Long retryDelayMillis(JsonNode error) {
        for (JsonNode detail : error.path("details")) {
            String delay = detail.path("retryDelay").asText("");
            if (detail.path("@type").asText().endsWith("google.rpc.RetryInfo") && delay.endsWith("s")) {
                try {
                    BigDecimal seconds = new BigDecimal(delay.substring(0, delay.length() - 1));
                    return seconds.signum() < 0 ? null : seconds.movePointRight(3).setScale(0, RoundingMode.CEILING).longValueExact();
                } catch (NumberFormatException | ArithmeticException e) {
                    return null;
                }
            }
        }
        return null;
    }

    private static JsonNode parse(byte[] body) {
        try {
            return GeminiRequestTranslator.MAPPER.readTree(body);
        } catch (IOException e) {
            return GeminiRequestTranslator.MAPPER.createObjectNode();
        }
    }
}
