package dev.gatehouse.gateway.chat;

/**
 * A request that fails for a reason the client should see, carried as OpenAI describes errors:
 * HTTP status, type, code and the offending parameter. Every layer throws it; the API layer
 * encodes it in the dialect's own error shape.
 */
public final class ApiException extends RuntimeException {
    private final int status;
    private final String type;
    private final String code;
    private final String param;
    private final Integer retryAfterSeconds;
    private final Long retryAfterMillis;

    public ApiException(int status, String type, String code, String param, String message, Integer retryAfterSeconds) {
        this(status, type, code, param, message, retryAfterSeconds, retryAfterSeconds == null ? null : retryAfterSeconds * 1000L);
    }

    private ApiException(int status, String type, String code, String param, String message, Integer retryAfterSeconds,
                         Long retryAfterMillis) {
        super(message);
        this.status = status;
        this.type = type;
        this.code = code;
        this.param = param;
        this.retryAfterSeconds = retryAfterSeconds;
        this.retryAfterMillis = retryAfterMillis;
    }

    /**
     * An upstream refusal that says when to come back to the millisecond (OpenAI's retry-after-ms,
     * Gemini's RetryInfo "1.5s"): the router waits exactly that; clients hear it in whole seconds, rounded up.
     */
    public static ApiException retryLater(int status, String type, String code, String message, Long retryAfterMillis) {
        Integer seconds = retryAfterMillis == null ? null : (int) Math.min(Integer.MAX_VALUE, (retryAfterMillis + 999) / 1000);
        return new ApiException(status, type, code, null, message, seconds, retryAfterMillis);
    }

    public static ApiException invalid(String param, String message) {
        return new ApiException(400, "invalid_request_error", null, param, message, null);
    }

    /** {@code param}: "messages" for chat, "prompt" for the completions API. */
    public static ApiException contextLength(String param, String message) {
        return new ApiException(400, "invalid_request_error", "context_length_exceeded", param, message, null);
    }

    /**
     * A parameter, or a value of one, that this backend cannot serve (seed on Anthropic, logprobs on
     * Gemini, ...), with OpenAI's codes for it: another target of the route may serve it.
     */
    public static ApiException unsupported(String param, String message) {
        return new ApiException(400, "invalid_request_error", "unsupported_parameter", param, message, null);
    }

    public static ApiException unsupportedValue(String param, String message) {
        return new ApiException(400, "invalid_request_error", "unsupported_value", param, message, null);
    }

    /** A graceful stop has begun: nothing new is taken (the client should go to another instance). */
    public static ApiException shuttingDown(String message) {
        return new ApiException(503, "server_error", "server_shutting_down", null, message, null);
    }

    public static ApiException modelNotFound(String model) {
        return new ApiException(404, "invalid_request_error", "model_not_found", "model",
                "The model '" + model + "' does not exist or is not served here.", null);
    }

    public static ApiException overloaded(String message, int retryAfterSeconds) {
        return new ApiException(503, "server_error", "server_overloaded", null, message, retryAfterSeconds);
    }

    public int status() {
        return status;
    }

    public String type() {
        return type;
    }

    public String code() {
        return code;
    }

    public String param() {
        return param;
    }

    /** The Retry-After header the client gets, in whole seconds; null when there is none. */
    public Integer retryAfterSeconds() {
        return retryAfterSeconds;
    }

    /** How long the refusing side asked to be left alone, in milliseconds; null when it did not say. */
    public Long retryAfterMillis() {
        return retryAfterMillis;
    }

    /** Refused because this backend cannot serve a parameter: the request itself may be fine elsewhere. */
    public boolean isUnsupported() {
        return status == 400 && ("unsupported_parameter".equals(code) || "unsupported_value".equals(code));
    }
}
