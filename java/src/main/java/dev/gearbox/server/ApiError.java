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

    /** {@code why}: the engine's message naming what is served, or null for the generic one. */
    public static ApiError unknownModel(String model, String why) {
        if (why == null) return unknownModel(model);
        return new ApiError(404, "invalid_request_error", "model", "model_not_found", why + " (GET /v1/models lists them)");
    }

    public static ApiError unknownModel(String model) {
        return new ApiError(404, "invalid_request_error", "model", "model_not_found",
                "The model '" + model + "' does not exist (GET /v1/models lists the tiers, their experts as tier:task, and 'auto')");
    }

    /**
     * A prompt over the context (or the KV budget): 400 {@code context_length_exceeded}, as OpenAI
     * answers it, so that clients map it to BadRequestError and may shorten and retry. The
     * {@code param} is the prompt's field, which only the endpoint knows ({@link #onEndpoint}).
     */
    public static ApiError tooLong(String message) {
        return new ApiError(400, "invalid_request_error", null, CONTEXT_LENGTH_EXCEEDED, message);
    }

    public static final String CONTEXT_LENGTH_EXCEEDED = "context_length_exceeded";

    /** This error as the endpoint reports it: a too-long prompt names {@code messages} (chat) or {@code prompt}. */
    public ApiError onEndpoint(boolean chat) {
        if (!CONTEXT_LENGTH_EXCEEDED.equals(code) || param != null) return this;
        return new ApiError(status, type, chat ? "messages" : "prompt", code, getMessage(), retryAfterSeconds);
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
