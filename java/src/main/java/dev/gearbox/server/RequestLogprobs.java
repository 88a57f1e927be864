package dev.gearbox.server;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * The log-probability fields of a request, as OpenAI defines them: chat takes {@code logprobs}
 * (boolean) and {@code top_logprobs} (0..20, only with {@code logprobs: true}); the legacy
 * completions endpoint takes {@code logprobs} as the number of alternatives (0..5).
 */
final class RequestLogprobs {
    static final int CHAT_MAX = 20, COMPLETIONS_MAX = 5;

    private RequestLogprobs() {}

    /** -1 when none are asked for, else how many alternatives per token (0 = only the chosen token's). */
    static int parse(JsonNode root, boolean chat) {
        JsonNode lp = root.get("logprobs"), top = root.get("top_logprobs");
        if (chat) {
            boolean on = false;
            if (lp != null && !lp.isNull()) {
                if (!lp.isBoolean()) throw ApiError.invalid("logprobs", "logprobs must be a boolean");
                on = lp.booleanValue();
            }
            if (top == null || top.isNull()) return on ? 0 : -1;
            int n = count(top, "top_logprobs", CHAT_MAX);
            if (!on) throw ApiError.invalid("top_logprobs", "top_logprobs needs logprobs: true");
            return n;
        }
        if (top != null && !top.isNull()) throw ApiError.invalid("top_logprobs", "top_logprobs is a chat field; /v1/completions takes logprobs: N");
        if (lp == null || lp.isNull()) return -1;
        return count(lp, "logprobs", COMPLETIONS_MAX);
    }

    private static int count(JsonNode v, String field, int max) {
        if (!v.isIntegralNumber() || !v.canConvertToInt()) throw ApiError.invalid(field, field + " must be an integer");
        int n = v.intValue();
        if (n < 0 || n > max) throw ApiError.invalid(field, field + " must be between 0 and " + max + ", got " + n);
        return n;
    }
}
