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

    public ApiException(int status, String type, String code, String param, String message, Integer retryAfterSeconds) {
        super(message);
        this.status = status;
        this.type = type;
        this.code = code;
        this.param = param;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public static ApiException invalid(String param, String message) {
        return new ApiException(400, "invalid_request_error", null, param, message, null);
    }

    /** {@code param}: "messages" for chat, "prompt" for the completions API. */
    public static ApiException contextLength(String param, String message) {
        return new ApiException(400, "invalid_request_error", "context_length_exceeded", param, message, null);
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

    public Integer retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
