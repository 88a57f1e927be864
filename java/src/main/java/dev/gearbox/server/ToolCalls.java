package dev.gearbox.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gearbox.constrain.Grammar;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * OpenAI's {@code tools}: the definitions reach the model through its chat template (see
 * {@code OpenAiRequest}); this class checks them, says what {@code tool_choice} asks for, and reads
 * the calls back out of the answer in the formats chat templates teach: Hermes/Qwen
 * ({@code <tool_call>{"name", "arguments"}</tool_call>}), Llama 3.1 (a JSON object with {@code name}
 * and {@code parameters}, optionally after {@code <|python_tag|>}), Mistral ({@code [TOOL_CALLS]}
 * and a JSON array). {@code required} and a named function are enforced by constrained decoding:
 * the answer is then exactly one call object, {@code {"name": ..., "arguments": {...}}}, its
 * arguments decoded under the function's parameters schema.
 *
 * @param names      the tools' function names, in order
 * @param choice     {@code auto}, {@code none}, {@code required}, or the function the caller names
 * @param grammar    the grammar {@code required} or a named function decodes under, else null
 */
record ToolCalls(List<String> names, String choice, Grammar grammar) {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Pattern HERMES = Pattern.compile("<tool_call>\\s*(.*?)\\s*</tool_call>", Pattern.DOTALL);

    /** One parsed call. */
    record Call(String name, String arguments) {}

    /** What the answer held: its plain text outside any call, and the calls. */
    record Parsed(String content, List<Call> calls) {}

    /** The request's tools and tool_choice, or null when it has no tools. */
    static ToolCalls parse(JsonNode root) {
        JsonNode tools = root.get("tools");
        JsonNode tc = root.get("tool_choice");
        if (tools == null || tools.isNull() || tools.isEmpty()) {
            if (tc != null && !tc.isNull() && !"none".equals(tc.asText())) throw ApiError.invalid("tool_choice", "tool_choice needs tools");
            return null;
        }
        List<String> names = new ArrayList<>();
        List<JsonNode> params = new ArrayList<>();
        for (int i = 0; i < tools.size(); i++) {
            JsonNode t = tools.get(i);
            String at = "tools[" + i + "]";
            if (!t.isObject() || !"function".equals(t.path("type").asText())) throw ApiError.invalid(at, at + " must be {\"type\": \"function\", \"function\": {...}}");
            JsonNode f = t.get("function");
            if (f == null || !f.isObject() || !f.path("name").isTextual() || f.get("name").asText().isBlank()) {
                throw ApiError.invalid(at + ".function.name", at + ".function needs a name");
            }
            names.add(f.get("name").asText());
            JsonNode p = f.get("parameters");
            if (p != null && !p.isNull() && !p.isObject()) throw ApiError.invalid(at + ".function.parameters", "parameters must be a JSON Schema object");
            params.add(p == null || p.isNull() ? JSON.createObjectNode().put("type", "object") : p);
        }
        if (new LinkedHashSet<>(names).size() != names.size()) throw ApiError.invalid("tools", "tool names must be distinct");
        String choice = "auto";
        if (tc != null && !tc.isNull()) {
            if (tc.isTextual() && Set.of("auto", "none", "required").contains(tc.asText())) choice = tc.asText();
            else if (tc.isObject() && tc.path("function").path("name").isTextual()) {
                choice = tc.get("function").get("name").asText();
                if (!names.contains(choice)) throw ApiError.invalid("tool_choice", "tool_choice names '" + choice + "', which is not among the tools");
            } else {
                throw ApiError.invalid("tool_choice", "tool_choice must be auto, none, required or {\"type\": \"function\", \"function\": {\"name\": ...}}");
            }
        }
        Grammar g = null;
        if (!choice.equals("auto") && !choice.equals("none")) {
            ArrayNode anyOf = JSON.createArrayNode();
            for (int i = 0; i < names.size(); i++) {
                if (!choice.equals("required") && !names.get(i).equals(choice)) continue;
                ObjectNode call = anyOf.addObject().put("type", "object");
                ObjectNode props = call.putObject("properties");
                props.putObject("name").put("const", names.get(i));
                props.set("arguments", params.get(i));
                call.putArray("required").add("name").add("arguments");
                call.put("additionalProperties", false);
            }
            ObjectNode schema = anyOf.size() == 1 ? (ObjectNode) anyOf.get(0) : JSON.createObjectNode().set("anyOf", anyOf);
            g = StructuredOutput.schema(schema, "tools");
        }
        return new ToolCalls(List.copyOf(names), choice, g);
    }

    /** Whether answers are read for calls (everything but {@code tool_choice: none}). */
    boolean active() { return !choice.equals("none"); }

    /** The calls in an answer, in any of the formats above; none found: the whole text as content. */
    Parsed read(String text) {
        List<Call> calls = new ArrayList<>();
        StringBuilder rest = new StringBuilder();
        Matcher m = HERMES.matcher(text);
        int last = 0;
        while (m.find()) {
            Call c = call(m.group(1));
            if (c == null) continue;
            calls.add(c);
            rest.append(text, last, m.start());
            last = m.end();
        }
        if (!calls.isEmpty()) {
            rest.append(text.substring(last));
            return new Parsed(rest.toString().strip(), calls);
        }
        String t = text.strip();
        if (t.startsWith("[TOOL_CALLS]")) t = t.substring("[TOOL_CALLS]".length()).strip();
        if (t.startsWith("<|python_tag|>")) t = t.substring("<|python_tag|>".length()).strip();
        try {
            JsonNode n = JSON.readTree(t);
            List<JsonNode> items = new ArrayList<>();
            if (n != null && n.isArray()) n.forEach(items::add);
            else if (n != null) items.add(n);
            for (JsonNode i : items) {
                Call c = call(i);
                if (c == null) return new Parsed(text, List.of());
                calls.add(c);
            }
            if (!calls.isEmpty()) return new Parsed("", calls);
        } catch (java.io.IOException notJson) {
            // plain text: no call
        }
        return new Parsed(text, List.of());
    }

    private Call call(String json) {
        try {
            return call(JSON.readTree(json));
        } catch (java.io.IOException e) {
            return null;
        }
    }

    /** A call object naming one of the tools, its arguments under "arguments" or "parameters" (an object or a JSON string). */
    private Call call(JsonNode n) {
        if (n == null || !n.isObject() || !n.path("name").isTextual() || !names.contains(n.get("name").asText())) return null;
        JsonNode args = n.has("arguments") ? n.get("arguments") : n.get("parameters");
        String a = args == null || args.isNull() ? "{}" : args.isTextual() ? args.asText() : args.toString();
        return new Call(n.get("name").asText(), a);
    }

    /** OpenAI's {@code message.tool_calls} (or, with {@code index}, a stream delta's). */
    static ArrayNode json(List<Call> calls, boolean withIndex) {
        ArrayNode out = JSON.createArrayNode();
        for (int i = 0; i < calls.size(); i++) {
            ObjectNode o = out.addObject();
            if (withIndex) o.put("index", i);
            o.put("id", "call_" + UUID.randomUUID().toString().replace("-", "").substring(0, 24));
            o.put("type", "function");
            o.putObject("function").put("name", calls.get(i).name()).put("arguments", calls.get(i).arguments());
        }
        return out;
    }
}
