package dev.gearbox.batch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gearbox.sample.SamplingParams;
import dev.gearbox.tokenizer.ChatMessage;

import java.util.ArrayList;
import java.util.List;

/**
 * Reads one line of the OpenAI Batch API input format: {@code {"custom_id", "method": "POST",
 * "url": "/v1/chat/completions" | "/v1/completions", "body": {...}}}. Sampling follows OpenAI's
 * defaults (temperature 1, top_p 1, no top-k or min-p, no token limit but the context); {@code
 * model} defaults to {@code auto}.
 */
final class InputParser {
    static final String CHAT = "/v1/chat/completions";
    static final String COMPLETIONS = "/v1/completions";
    private final ObjectMapper json;

    InputParser(ObjectMapper json) {
        this.json = json;
    }

    BatchItem parse(int lineNo, String line) throws BadLineException {
        JsonNode root;
        try {
            root = json.readTree(line);
        } catch (Exception e) {
            throw new BadLineException(null, "invalid_json", null, "line " + lineNo + " is not valid JSON: " + firstLine(e.getMessage()));
        }
        if (root == null || !root.isObject()) throw new BadLineException(null, "invalid_json", null, "line " + lineNo + " is not a JSON object");
        JsonNode cid = root.get("custom_id");
        if (cid == null || !cid.isTextual() || cid.asText().isEmpty()) {
            throw new BadLineException(null, "missing_custom_id", "custom_id", "line " + lineNo + " has no custom_id (a non-empty string)");
        }
        String id = cid.asText();
        JsonNode method = root.get("method");
        if (method != null && !"POST".equals(method.asText())) {
            throw new BadLineException(id, "invalid_method", "method", "method must be POST, got " + method);
        }
        JsonNode url = root.get("url");
        if (url == null || !url.isTextual()) throw new BadLineException(id, "invalid_url", "url", "url is required: " + CHAT + " or " + COMPLETIONS);
        boolean chat;
        if (url.asText().equals(CHAT)) chat = true;
        else if (url.asText().equals(COMPLETIONS)) chat = false;
        else throw new BadLineException(id, "invalid_url", "url", "unsupported url '" + url.asText() + "' (supported: " + CHAT + ", " + COMPLETIONS + ")");
        JsonNode body = root.get("body");
        if (body == null || !body.isObject()) throw new BadLineException(id, "invalid_body", "body", "body must be a JSON object");

        String model = body.hasNonNull("model") ? text(id, body, "model") : "auto";
        refuseUnserved(id, body);
        SamplingParams sampling = sampling(id, body);
        if (chat) {
            JsonNode msgs = body.get("messages");
            if (msgs == null || !msgs.isArray() || msgs.isEmpty()) throw new BadLineException(id, "invalid_value", "messages", "messages must be a non-empty array");
            List<JsonNode> messages = new ArrayList<>();
            StringBuilder all = new StringBuilder();
            String lastUser = null;
            for (int i = 0; i < msgs.size(); i++) {
                JsonNode m = msgs.get(i);
                String at = "messages[" + i + "]";
                if (!m.isObject() || !m.path("role").isTextual()) throw new BadLineException(id, "invalid_value", at, at + " needs a string role");
                String role = m.get("role").asText();
                String content = m.get("content") == null || m.get("content").isNull() ? "" : content(id, m.get("content"), at + ".content");
                // A tool-calling assistant turn's null content reaches the template as "" (as in serve).
                messages.add(m.get("content") == null || m.get("content").isNull() ? ((com.fasterxml.jackson.databind.node.ObjectNode) m.deepCopy()).put("content", "") : m);
                if (role.equals("user")) lastUser = content;
                // As the server does: a tier without a chat template reads the contents joined by newlines.
                if (!content.isEmpty()) {
                    if (!all.isEmpty()) all.append('\n');
                    all.append(content);
                }
            }
            if (lastUser == null) throw new BadLineException(id, "invalid_value", "messages", "messages has no user message");
            List<JsonNode> tools = null;
            if (body.hasNonNull("tools")) {
                if (!body.get("tools").isArray()) throw new BadLineException(id, "invalid_value", "tools", "tools must be an array");
                tools = new ArrayList<>();
                body.get("tools").forEach(tools::add);
                if (tools.isEmpty()) tools = null;
            }
            var conversation = new dev.gearbox.template.Conversation(messages, tools, null, true, all.toString(), lastUser);
            return new BatchItem(lineNo, id, true, model, conversation, all.toString(), null, sampling);
        }
        JsonNode p = body.get("prompt");
        if (p != null && p.isArray() && p.size() == 1 && p.get(0).isTextual()) p = p.get(0);
        if (p != null && p.isTextual()) {
            if (p.asText().isEmpty()) throw new BadLineException(id, "invalid_value", "prompt", "prompt is empty");
            return new BatchItem(lineNo, id, false, model, null, p.asText(), null, sampling);
        }
        if (p != null && p.isArray() && !p.isEmpty() && p.get(0).isInt()) {
            int[] ids = new int[p.size()];
            for (int i = 0; i < ids.length; i++) {
                if (!p.get(i).isInt()) throw new BadLineException(id, "invalid_value", "prompt", "prompt token ids must all be integers");
                ids[i] = p.get(i).asInt();
            }
            return new BatchItem(lineNo, id, false, model, null, null, ids, sampling);
        }
        throw new BadLineException(id, "invalid_value", "prompt", "prompt must be a non-empty string, a one-string array or an array of token ids");
    }

    /**
     * Fields the server honors but batch jobs do not yet (the output lines carry no tool calls,
     * or logprobs, and answers are not constrained; n other than 1 is refused with the sampling fields): a clear error line, never an
     * answer that silently ignored what was asked.
     */
    private static void refuseUnserved(String id, JsonNode body) throws BadLineException {
        for (String f : new String[] {"tools", "tool_choice", "response_format", "grammar", "logprobs", "top_logprobs"}) {
            JsonNode v = body.get(f);
            if (v == null || v.isNull() || (v.isBoolean() && !v.asBoolean())) continue;
            if (f.equals("response_format") && "text".equals(v.path("type").asText())) continue;
            if (f.equals("tools") && v.isArray() && v.isEmpty()) continue;
            throw new BadLineException(id, "unsupported_parameter", f, f + " is not supported in batch jobs yet (gearbox serve supports it)");
        }
    }

    private static String content(String id, JsonNode c, String at) throws BadLineException {
        if (c != null && c.isTextual()) return c.asText();
        if (c != null && c.isArray()) {
            StringBuilder sb = new StringBuilder();
            for (JsonNode part : c) {
                if (!"text".equals(part.path("type").asText()) || !part.path("text").isTextual()) {
                    throw new BadLineException(id, "invalid_value", at, at + ": only text parts are supported");
                }
                sb.append(part.get("text").asText());
            }
            return sb.toString();
        }
        throw new BadLineException(id, "invalid_value", at, at + " must be a string or an array of text parts");
    }

    private static String text(String id, JsonNode body, String field) throws BadLineException {
        JsonNode n = body.get(field);
        if (!n.isTextual()) throw new BadLineException(id, "invalid_type", field, field + " must be a string");
        return n.asText();
    }

    private static SamplingParams sampling(String id, JsonNode b) throws BadLineException {
        SamplingParams.Builder s = SamplingParams.builder().temperature(1).topP(1).topK(0).minP(0).repeatLastN(0);
        try {
            if (b.hasNonNull("temperature")) s.temperature((float) number(id, b, "temperature", 0, 2));
            if (b.hasNonNull("top_p")) s.topP((float) number(id, b, "top_p", 0, 1));
            String maxField = b.hasNonNull("max_completion_tokens") ? "max_completion_tokens" : "max_tokens";
            if (b.hasNonNull(maxField)) s.maxTokens((int) number(id, b, maxField, 0, Integer.MAX_VALUE));
            if (b.hasNonNull("seed")) {
                if (!b.get("seed").isIntegralNumber()) throw new BadLineException(id, "invalid_type", "seed", "seed must be an integer");
                s.seed(b.get("seed").asLong());   // every integer is a seed, negative ones too
            }
            if (b.hasNonNull("presence_penalty")) s.presencePenalty((float) number(id, b, "presence_penalty", -2, 2));
            if (b.hasNonNull("frequency_penalty")) s.frequencyPenalty((float) number(id, b, "frequency_penalty", -2, 2));
            // OpenAI's penalties count the answer's own tokens, never the prompt (as gearbox serve does).
            if (b.hasNonNull("presence_penalty") || b.hasNonNull("frequency_penalty")) s.penaltyScope(SamplingParams.PenaltyScope.ANSWER);
            if (b.hasNonNull("n") && b.get("n").asInt() != 1) throw new BadLineException(id, "invalid_value", "n", "n must be 1");
            if (b.path("stream").asBoolean(false)) throw new BadLineException(id, "invalid_value", "stream", "stream is not supported in a batch");
            JsonNode stop = b.get("stop");
            if (stop != null && !stop.isNull()) {
                List<String> stops = new ArrayList<>();
                if (stop.isTextual()) stops.add(stop.asText());
                else if (stop.isArray() && stop.size() <= 4) for (JsonNode x : stop) {
                    if (!x.isTextual() || x.asText().isEmpty()) throw new BadLineException(id, "invalid_value", "stop", "stop strings must be non-empty strings");
                    stops.add(x.asText());
                }
                else throw new BadLineException(id, "invalid_value", "stop", "stop must be a string or an array of up to 4 strings");
                s.stop(stops);
            }
            return s.build();
        } catch (IllegalArgumentException e) {
            throw new BadLineException(id, "invalid_value", null, e.getMessage());
        }
    }

    private static double number(String id, JsonNode b, String field, double lo, double hi) throws BadLineException {
        JsonNode n = b.get(field);
        if (!n.isNumber()) throw new BadLineException(id, "invalid_type", field, field + " must be a number");
        double v = n.asDouble();
        if (!(v >= lo && v <= hi)) throw new BadLineException(id, "invalid_value", field, field + " must be in [" + fmt(lo) + ", " + fmt(hi) + "], got " + n);
        return v;
    }

    private static String fmt(double v) {
        return v == Math.rint(v) ? String.valueOf((long) v) : String.valueOf(v);
    }

    static String firstLine(String s) {
        if (s == null) return "";
        int i = s.indexOf('\n');
        return i < 0 ? s : s.substring(0, i);
    }
}
