package dev.gearbox.server;

/**
 * A request the server refuses, carried up to the HTTP layer and written as OpenAI's error body
 * {@code {"error": {"message", "type", "param", "code"}}} with {@code status}.
 */
public final class ApiError extends RuntimeException {
    private final int status;
    private final String type;
    private final String param;
    private final String code;
    private final Integer retryAfterSeconds;

    public ApiError(int status, String type, String param, String code, String message) {
        this(status, type, param, code, message, null);
    }

    public ApiError(int status, String type, String param, String code, String message, Integer retryAfterSeconds) {
        super(message, null, false, false);   // no stack trace: these are expected outcomes
        this.status = status;
        this.type = type;
        this.param = param;
        this.code = code;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public static ApiError invalid(String param, String message) {
        return new ApiError(400, "invalid_request_error", param, null, message);
    }

    public static ApiError unknownModel(String model) {
        return new ApiError(404, "invalid_request_error", "model", "model_not_found",
                "The model '" + model + "' does not exist (GET /v1/models lists the tiers and 'auto')");
    }

    public static ApiError tooLong(String message) {
        return new ApiError(413, "invalid_request_error", "messages", "context_length_exceeded", message);
    }

    public static ApiError queueFull(int retryAfterSeconds) {
        return new ApiError(429, "rate_limit_error", null, "queue_full",
                "The server's queue is full; retry after " + retryAfterSeconds + " s", retryAfterSeconds);
    }

    public static ApiError unavailable(String message) {
        return new ApiError(503, "server_error", null, "shutting_down", message);
    }

    public int status() { return status; }
    public String type() { return type; }
    public String param() { return param; }
    public String code() { return code; }
    public Integer retryAfterSeconds() { return retryAfterSeconds; }
}
