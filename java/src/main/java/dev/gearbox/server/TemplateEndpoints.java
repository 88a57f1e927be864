package dev.gearbox.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.javalin.http.Context;

/**
 * llama.cpp's server endpoints for seeing what a model reads: {@code POST /apply-template}
 * ({@code {"messages", "tools"}} → {@code {"prompt"}}, rendered as the chat endpoint renders it),
 * {@code POST /tokenize} ({@code {"content", "add_special"}} → {@code {"tokens"}}) and
 * {@code POST /detokenize} ({@code {"tokens"}} → {@code {"content"}}). An optional {@code model}
 * names the tier (default: the smallest).
 */
final class TemplateEndpoints {
    private final CompletionEngine engine;
    private final ObjectMapper json;

    TemplateEndpoints(CompletionEngine engine, ObjectMapper json) {
        this.engine = engine;
        this.json = json;
    }

    void applyTemplate(Context ctx) {
        JsonNode root = body(ctx);
        // Parsed as a chat request is, so the endpoint renders exactly what a chat completion would.
        ObjectNode asChat = root.deepCopy();
        if (!asChat.has("model")) asChat.put("model", "auto");
        OpenAiRequest req = OpenAiRequest.parse(json, asChat.toString(), true);
        String model = root.hasNonNull("model") ? root.get("model").asText() : null;
        reply(ctx, json.createObjectNode().put("prompt", engine.applyTemplate(model, req.conversation())));
    }

    void tokenize(Context ctx) {
        JsonNode root = body(ctx);
        JsonNode content = root.get("content");
        if (content == null || !content.isTextual()) throw ApiError.invalid("content", "content must be a string");
        JsonNode add = root.get("add_special");
        if (add != null && !add.isNull() && !add.isBoolean()) throw ApiError.invalid("add_special", "add_special must be a boolean");
        boolean addSpecial = add != null && add.asBoolean(false);
        ArrayNode tokens = json.createArrayNode();
        for (int t : engine.tokenize(model(root), content.asText(), addSpecial)) tokens.add(t);
        ObjectNode o = json.createObjectNode();
        o.set("tokens", tokens);
        reply(ctx, o);
    }

    void detokenize(Context ctx) {
        JsonNode root = body(ctx);
        JsonNode tokens = root.get("tokens");
        if (tokens == null || !tokens.isArray()) throw ApiError.invalid("tokens", "tokens must be an array of token ids");
        int[] ids = new int[tokens.size()];
        for (int i = 0; i < ids.length; i++) {
            JsonNode t = tokens.get(i);
            if (!t.isIntegralNumber() || !t.canConvertToInt()) throw ApiError.invalid("tokens", "tokens[" + i + "] must be an integer");
            ids[i] = t.intValue();
        }
        reply(ctx, json.createObjectNode().put("content", engine.detokenize(model(root), ids)));
    }

    private static String model(JsonNode root) {
        JsonNode m = root.get("model");
        if (m == null || m.isNull()) return null;
        if (!m.isTextual()) throw ApiError.invalid("model", "model must be a string");
        return m.asText();
    }

    private JsonNode body(Context ctx) {
        JsonNode root;
        try {
            root = json.readTree(ctx.body());
        } catch (java.io.IOException e) {
            throw ApiError.invalid(null, "The body is not valid JSON");
        }
        if (root == null || !root.isObject()) throw ApiError.invalid(null, "The body must be a JSON object");
        return root;
    }

    private static void reply(Context ctx, ObjectNode o) {
        ctx.contentType("application/json").result(o.toString());
    }
}
