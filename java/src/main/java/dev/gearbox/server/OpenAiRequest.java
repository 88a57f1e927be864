package dev.gearbox.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import dev.gearbox.sample.SamplingParams;
import dev.gearbox.constrain.Grammar;
import dev.gearbox.template.Conversation;

import java.util.ArrayList;
import java.util.List;

/**
 * A parsed and checked body of {@code POST /v1/chat/completions} or {@code /v1/completions}.
 * Parsed by hand from the JSON tree so that every wrong field gets a 400 naming it; unknown
 * fields are ignored as OpenAI's own clients send extras, but fields that would change the answer
 * and are not implemented are refused ({@link RequestChecks}).
 */
public record OpenAiRequest(boolean chat, String model, String prompt, Integer maxTokens, Double temperature, Double topP,
                            Long seed, List<String> stop, boolean stream, boolean includeUsage, SamplingFields sampling,
                            int topLogprobs, Conversation conversation, Grammar grammar, ToolCalls tools, int n) {
    /** Most choices one request may ask for ({@code n}). */
    static final int MAX_CHOICES = 16;


    private static final int MAX_STOPS = 4;

    public static OpenAiRequest parse(ObjectMapper json, String body, boolean chat) {
        JsonNode root;
        try {
            // One JSON value and nothing after it: "{...} x" or two objects are not one request.
            root = json.readerFor(JsonNode.class).with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS).readValue(body);
        } catch (JsonProcessingException e) {
            throw ApiError.invalid(null, "The body is not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) throw ApiError.invalid(null, "The body must be a JSON object");
        RequestChecks.refuseUnsupported(root);
        String model = string(root, "model", true);
        String prompt = chat ? messages(root) : prompt(root);
        // null means absent: a null max_completion_tokens leaves max_tokens in force, and the other way round.
        String maxField = chat && present(root, "max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
        Integer maxTokens = integer(root, maxField);
        if (maxTokens != null && maxTokens < 1) throw ApiError.invalid(maxField, maxField + " must be at least 1, got " + maxTokens);
        Double temperature = number(root, "temperature");
        if (temperature != null && (temperature < 0 || temperature > 2))
            throw ApiError.invalid("temperature", "temperature must be between 0 and 2, got " + temperature);
        Double topP = number(root, "top_p");
        if (topP != null && (topP <= 0 || topP > 1)) throw ApiError.invalid("top_p", "top_p must be in (0, 1], got " + topP);
        Long seed = root.has("seed") && !root.get("seed").isNull() ? longValue(root, "seed") : null;
        List<String> stop = stop(root);
        boolean stream = bool(root, "stream");
        boolean includeUsage = false;
        JsonNode so = root.get("stream_options");
        if (so != null && !so.isNull()) {
            if (!so.isObject()) throw ApiError.invalid("stream_options", "stream_options must be an object");
            includeUsage = bool(so, "include_usage");
        }
        JsonNode nNode = root.get("n");
        int n = 1;
        if (nNode != null && !nNode.isNull()) {
            if (!nNode.isIntegralNumber() || !nNode.canConvertToInt()) throw ApiError.invalid("n", "n must be an integer");
            n = nNode.intValue();
            if (n < 1 || n > MAX_CHOICES) throw ApiError.invalid("n", "n must be between 1 and " + MAX_CHOICES + ", got " + n);
        }
        SamplingFields sampling = SamplingFields.parse(root);
        ToolCalls tools = chat ? ToolCalls.parse(root) : null;
        Grammar grammar = StructuredOutput.parse(root);
        if (tools != null && tools.grammar() != null) {
            if (grammar != null) throw ApiError.invalid("tool_choice", "tool_choice " + tools.choice() + " and response_format cannot both constrain the answer");
            grammar = tools.grammar();
        }
        return new OpenAiRequest(chat, model, prompt, maxTokens, temperature, topP, seed, stop, stream, includeUsage, sampling,
                RequestLogprobs.parse(root, chat), chat ? conversation(json, root, prompt) : null, grammar, tools, n);
    }

    /**
     * The job: greedy (temperature 0) or sampled, OpenAI's defaults (temperature 1, top_p 1, no
     * top-k or min-p) so that temperature and top_p mean what they mean there, and the extra
     * sampling fields on top ({@link SamplingFields}); a greedy request with none of them leaves
     * the sampling to the engine's greedy default. Any seed value is a seed; none = a random one.
     */
    public CompletionJob job(int defaultMaxTokens) {
        SamplingParams params = null;
        double t = temperature != null ? temperature : 1.0;
        if (t > 0 || sampling.any()) {
            var b = SamplingParams.builder().temperature((float) t).topK(0).minP(0).topP(topP != null ? topP.floatValue() : 1f)
                    .seed(seed);
            params = sampling.applyTo(b).build();
        }
        return new CompletionJob(prompt, model, maxTokens != null ? maxTokens : defaultMaxTokens, params, stop, topLogprobs, conversation, grammar, n);
    }

    // The contents joined by newlines: the prompt of a tier without a chat template (the default
    // ladder's plain completion models; one user message is sent as is). Tiers with a template
    // render the conversation itself (see conversation()).
    private static String messages(JsonNode root) {
        JsonNode msgs = root.get("messages");
        if (msgs == null || msgs.isNull()) throw ApiError.invalid("messages", "Missing required parameter: 'messages'");
        if (!msgs.isArray()) throw ApiError.invalid("messages", "messages must be an array");
        if (msgs.isEmpty()) throw ApiError.invalid("messages", "messages must not be empty");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < msgs.size(); i++) {
            JsonNode m = msgs.get(i);
            String p = "messages[" + i + "]";
            if (!m.isObject()) throw ApiError.invalid(p, p + " must be an object");
            JsonNode role = m.get("role");
            if (role == null || !role.isTextual()) throw ApiError.invalid(p + ".role", p + ".role must be a string");
            JsonNode content = m.get("content");
            String text;
            if (content == null || content.isNull()) text = "";
            else if (content.isTextual()) text = content.asText();
            else if (content.isArray()) {
                StringBuilder parts = new StringBuilder();
                for (JsonNode part : content) {
                    if (!part.isObject() || !"text".equals(part.path("type").asText())) throw RequestChecks.unsupportedPart(p + ".content", part);
                    if (!part.path("text").isTextual()) throw ApiError.invalid(p + ".content", "a text content part needs a string 'text'");
                    parts.append(part.get("text").asText());
                }
                text = parts.toString();
            } else throw ApiError.invalid(p + ".content", p + ".content must be a string or an array of text parts");
            if (text.isEmpty()) continue;
            if (!sb.isEmpty()) sb.append('\n');
            sb.append(text);
        }
        return sb.toString();
    }

    /**
     * The messages as the tiers' chat templates take them (the JSON as sent), the tools, and
     * {@code chat_template_kwargs} (vLLM's and llama.cpp's name) as extra template variables.
     */
    private static Conversation conversation(ObjectMapper json, JsonNode root, String plain) {
        List<JsonNode> messages = new ArrayList<>();
        for (JsonNode m : root.get("messages")) {
            // An assistant turn that only calls tools has content null: templates concatenate content, so
            // it reaches them as "" (what llama.cpp does; Qwen's template fails on None otherwise).
            if (m.isObject() && (m.get("content") == null || m.get("content").isNull())) m = ((com.fasterxml.jackson.databind.node.ObjectNode) m.deepCopy()).put("content", "");
            messages.add(m);
        }
        String lastUser = plain;
        for (JsonNode m : messages) {
            if ("user".equals(m.path("role").asText())) lastUser = text(m.get("content"));
        }
        List<JsonNode> tools = null;
        JsonNode t = root.get("tools");
        if (t != null && !t.isNull()) {
            if (!t.isArray()) throw ApiError.invalid("tools", "tools must be an array");
            tools = new ArrayList<>();
            t.forEach(tools::add);
            if (tools.isEmpty()) tools = null;
        }
        java.util.Map<String, Object> kwargs = null;
        JsonNode k = root.get("chat_template_kwargs");
        if (k != null && !k.isNull()) {
            if (!k.isObject()) throw ApiError.invalid("chat_template_kwargs", "chat_template_kwargs must be an object");
            kwargs = new java.util.LinkedHashMap<>();
            for (var it = k.fields(); it.hasNext(); ) {
                var e = it.next();
                kwargs.put(e.getKey(), json.convertValue(e.getValue(), Object.class));
            }
        }
        return new Conversation(messages, tools, kwargs, true, plain, lastUser);
    }

    private static String text(JsonNode content) {
        if (content == null || content.isNull()) return "";
        if (content.isTextual()) return content.asText();
        StringBuilder sb = new StringBuilder();
        for (JsonNode part : content) sb.append(part.path("text").asText());
        return sb.toString();
    }

    private static String prompt(JsonNode root) {
        JsonNode p = root.get("prompt");
        if (p == null || p.isNull()) throw ApiError.invalid("prompt", "Missing required parameter: 'prompt'");
        if (p.isTextual()) return p.asText();
        if (p.isArray() && p.size() == 1 && p.get(0).isTextual()) return p.get(0).asText();
        throw ApiError.invalid("prompt", "prompt must be a string (or an array of one string)");
    }

    private static List<String> stop(JsonNode root) {
        JsonNode s = root.get("stop");
        List<String> out = new ArrayList<>();
        if (s == null || s.isNull()) return out;
        if (s.isTextual()) out.add(s.asText());
        else if (s.isArray()) {
            for (JsonNode e : s) {
                if (!e.isTextual()) throw ApiError.invalid("stop", "stop must be a string or an array of strings");
                out.add(e.asText());
            }
        } else throw ApiError.invalid("stop", "stop must be a string or an array of strings");
        if (out.size() > MAX_STOPS) throw ApiError.invalid("stop", "at most " + MAX_STOPS + " stop sequences, got " + out.size());
        for (String x : out) if (x.isEmpty()) throw ApiError.invalid("stop", "a stop sequence must not be empty");
        return out;
    }

    private static boolean present(JsonNode root, String field) {
        JsonNode v = root.get(field);
        return v != null && !v.isNull();
    }

    private static String string(JsonNode root, String field, boolean required) {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) {
            if (required) throw ApiError.invalid(field, "Missing required parameter: '" + field + "'");
            return null;
        }
        if (!v.isTextual()) throw ApiError.invalid(field, field + " must be a string");
        return v.asText();
    }

    private static Integer integer(JsonNode root, String field) {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isIntegralNumber()) throw ApiError.invalid(field, field + " must be an integer");
        if (!v.canConvertToInt()) throw ApiError.invalid(field, field + " is out of range: " + v.asText());
        return v.intValue();
    }

    private static Long longValue(JsonNode root, String field) {
        JsonNode v = root.get(field);
        if (!v.isIntegralNumber()) throw ApiError.invalid(field, field + " must be an integer");
        if (!v.canConvertToLong()) throw ApiError.invalid(field, field + " is out of range: " + v.asText());
        return v.longValue();
    }

    /** A finite number field, or null when absent; a 400 naming it otherwise. */
    static Double number(JsonNode root, String field) {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) return null;
        if (!v.isNumber()) throw ApiError.invalid(field, field + " must be a number");
        double d = v.doubleValue();
        if (!Double.isFinite(d)) throw ApiError.invalid(field, field + " is out of range");
        return d;
    }

    private static boolean bool(JsonNode root, String field) {
        JsonNode v = root.get(field);
        if (v == null || v.isNull()) return false;
        if (!v.isBoolean()) throw ApiError.invalid(field, field + " must be a boolean");
        return v.booleanValue();
    }
}
