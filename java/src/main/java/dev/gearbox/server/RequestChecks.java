package dev.gearbox.server;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Fields of OpenAI's API that this server does not implement and that would change the answer if
 * honored: a request using them gets a 400 naming the field, never an answer that silently
 * ignored it. A field at its neutral value ({@code echo: false}, {@code best_of: 1},
 * {@code modalities: ["text"]}, ...) changes nothing and passes. Harmless metadata ({@code user},
 * {@code store}, {@code metadata}, {@code service_tier}, unknown {@code stream_options} fields)
 * is not looked at here: unknown fields are ignored.
 */
final class RequestChecks {
    private RequestChecks() {}

    static void refuseUnsupported(JsonNode root) {
        JsonNode echo = present(root, "echo");
        if (echo != null && !(echo.isBoolean() && !echo.booleanValue()))
            throw refused("echo", "echo (repeating the prompt in the answer) is not supported");
        JsonNode bestOf = present(root, "best_of");
        if (bestOf != null && !(bestOf.isIntegralNumber() && bestOf.asLong() == 1))
            throw refused("best_of", "best_of other than 1 is not supported");
        JsonNode suffix = present(root, "suffix");
        if (suffix != null && !(suffix.isTextual() && suffix.asText().isEmpty()))
            throw refused("suffix", "suffix (insertion after the completion) is not supported");
        if (present(root, "prediction") != null)
            throw refused("prediction", "predicted outputs (prediction) are not supported");
        JsonNode modalities = present(root, "modalities");
        if (modalities != null && !textOnly(modalities))
            throw refused("modalities", "only the text modality is supported (modalities: [\"text\"])");
        if (present(root, "audio") != null)
            throw refused("audio", "audio output is not supported");
        if (present(root, "web_search_options") != null)
            throw refused("web_search_options", "web search is not supported");
        if (present(root, "functions") != null)
            throw refused("functions", "the legacy functions field is not supported");
        JsonNode functionCall = present(root, "function_call");
        if (functionCall != null && !(functionCall.isTextual() && functionCall.asText().equals("none")))
            throw refused("function_call", "the legacy function_call field is not supported");
    }

    /** A message content part that is not text: named by its type, so the client knows what was refused. */
    static ApiError unsupportedPart(String param, JsonNode part) {
        String type = part.isObject() && part.path("type").isTextual() ? part.get("type").asText() : null;
        String what = type == null ? "a content part without a type"
                : switch (type) {
                    case "image_url", "image" -> "image content parts";
                    case "input_audio", "audio" -> "audio content parts";
                    case "file" -> "file content parts";
                    default -> "content parts of type '" + type + "'";
                };
        return ApiError.invalid(param, what + " are not supported by this server: the tiers read text only ({\"type\":\"text\",\"text\":...})");
    }

    private static JsonNode present(JsonNode root, String field) {
        JsonNode v = root.get(field);
        return v == null || v.isNull() ? null : v;
    }

    private static boolean textOnly(JsonNode modalities) {
        if (!modalities.isArray()) return false;
        for (JsonNode m : modalities) if (!m.isTextual() || !m.asText().equals("text")) return false;
        return true;
    }

    private static ApiError refused(String field, String message) {
        return ApiError.invalid(field, message + " by this server; remove '" + field + "' from the request");
    }
}
