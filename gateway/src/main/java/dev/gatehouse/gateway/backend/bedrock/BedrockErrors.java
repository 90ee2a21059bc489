package dev.gatehouse.gateway.backend.bedrock;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.gateway.backend.Credentials;
import dev.gatehouse.gateway.chat.ApiException;

import java.io.IOException;
import java.util.regex.Pattern;

/**
 * Bedrock's errors ({@code {"message": ...}}, sometimes with the exception's name in {@code __type})
 * in OpenAI's shape: ThrottlingException (429) stays a 429 with
 * Retry-After; ModelNotReadyException (also a 429) and ServiceUnavailableException (503) are a 503
 * the router falls back on; a refused signature or role (403) is Gatehouse's problem, a 502; a
 * ValidationException about a too-long input is context_length_exceeded.
 */
final class BedrockErrors {
    /** Throttled without a Retry-After: Bedrock sends none; a second is what the SDK's own backoff starts near. */
    static final long DEFAULT_RETRY_MILLIS = 1000;
    /**
     * The words the model families use: "Input is too long for requested model.", "prompt is too
     * long: 208656 tokens > 200000 maximum", "too many input tokens", "... exceeds the context window".
     */
    private static final Pattern INPUT_TOO_LONG = Pattern.compile(
            "input is too long|prompt is too long|too many (input )?tokens|exceeds? the (maximum|context)", Pattern.CASE_INSENSITIVE);

    /** ModelNotReadyException's 429: "Model is not ready for inference. Wait and try your request again." */
    private static final Pattern NOT_READY = Pattern.compile("model is not ready", Pattern.CASE_INSENSITIVE);

    private BedrockErrors() {}

    static ApiException fromResponse(String provider, int status, byte[] body, Long retryAfterMillis) {
        JsonNode error = parse(body);
        String type = error.path("__type").asText("").replaceAll("^.*#", ""); // "com.amazon...#ThrottlingException"
        String message = Credentials.scrub(error.path("message").asText(error.path("Message").asText("")), null);
        if (status == 401 || status == 403) {
            return new ApiException(502, "server_error", "upstream_auth_failed", null,
                    "Provider '" + provider + "' refused Gatehouse's AWS credentials (HTTP " + status + ").", null);
        }
        if (type.equals("ModelNotReadyException") || type.equals("ServiceUnavailableException") || status == 503
                || NOT_READY.matcher(message).find()) {
            return ApiException.retryLater(503, "server_error", "server_overloaded",
                    "Provider '" + provider + "' is not ready: " + message, retryAfterMillis);
        }
        if (status == 429 || type.equals("ThrottlingException")) {
            return ApiException.retryLater(429, "requests", "rate_limit_exceeded", "Provider '" + provider + "': " + message,
                    retryAfterMillis != null ? retryAfterMillis : DEFAULT_RETRY_MILLIS);
        }
        if (status >= 500) {
            return new ApiException(status, "server_error", null, null, "Provider '" + provider + "': " + message, null);
        }
        if (status == 400 && INPUT_TOO_LONG.matcher(message).find()) {
            return ApiException.contextLength("messages", message);
        }
        return new ApiException(status, "invalid_request_error", null, null,
                message.isEmpty() ? "Provider '" + provider + "' answered HTTP " + status + "." : message, null);
    }

    private static JsonNode parse(byte[] body) {
        try {
            JsonNode node = BedrockRequestTranslator.MAPPER.readTree(body);
            return node == null ? BedrockRequestTranslator.MAPPER.createObjectNode() : node;
        } catch (IOException e) {
            return BedrockRequestTranslator.MAPPER.createObjectNode();
        }
    }
}
