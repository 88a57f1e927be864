package dev.gearbox.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gearbox.constrain.GbnfParser;
import dev.gearbox.constrain.Grammar;
import dev.gearbox.constrain.GrammarException;
import dev.gearbox.constrain.JsonSchemaCompiler;
import dev.gearbox.constrain.UnsupportedSchemaException;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * {@code response_format} ({@code json_object}, {@code json_schema}) and llama.cpp's {@code grammar}
 * (GBNF) turned into the grammar the answer is decoded under. Compiled grammars are kept by their
 * text (a small LRU), so requests that send the same schema share one grammar, and with it the token
 * masks computed for it.
 */
final class StructuredOutput {
    private static final int CACHED = 64;
    private static final Map<String, Grammar> CACHE = new LinkedHashMap<>(16, 0.75f, true) {
        @Override protected boolean removeEldestEntry(Map.Entry<String, Grammar> e) { return size() > CACHED; }
    };

    private StructuredOutput() {}

    /** The request's grammar, or null when its answer is free text. */
    static Grammar parse(JsonNode root) {
        JsonNode rf = root.get("response_format"), gbnf = root.get("grammar");
        boolean hasFormat = rf != null && !rf.isNull() && !(rf.isObject() && "text".equals(rf.path("type").asText()));
        if (hasFormat && gbnf != null && !gbnf.isNull()) {
            throw ApiError.invalid("grammar", "give response_format or grammar, not both");
        }
        if (gbnf != null && !gbnf.isNull()) {
            if (!gbnf.isTextual()) throw ApiError.invalid("grammar", "grammar must be a GBNF string");
            return cached("gbnf:" + gbnf.asText(), () -> {
                try {
                    return GbnfParser.parse(gbnf.asText());
                } catch (GrammarException e) {
                    throw ApiError.invalid("grammar", "the grammar does not parse: " + e.getMessage());
                }
            });
        }
        if (rf == null || rf.isNull()) return null;
        if (!rf.isObject() || !rf.path("type").isTextual()) throw ApiError.invalid("response_format", "response_format must be an object with a type");
        return switch (rf.get("type").asText()) {
            case "text" -> null;
            case "json_object" -> cached("json_object", Grammar::anyJsonObject);
            case "json_schema" -> {
                JsonNode js = rf.get("json_schema");
                if (js == null || !js.isObject()) throw ApiError.invalid("response_format", "response_format.json_schema must be an object");
                JsonNode schema = js.get("schema");
                if (schema == null || !schema.isObject()) throw ApiError.invalid("response_format", "response_format.json_schema.schema must be a JSON Schema object");
                yield schema(schema, "response_format");
            }
            default -> throw ApiError.invalid("response_format", "response_format.type must be text, json_object or json_schema, got '" + rf.get("type").asText() + "'");
        };
    }

    /** A JSON Schema's grammar; a keyword the compiler cannot enforce is a 400 naming it. */
    static Grammar schema(JsonNode schema, String param) {
        return cached("schema:" + schema, () -> {
            try {
                return JsonSchemaCompiler.compile(schema);
            } catch (UnsupportedSchemaException e) {
                throw ApiError.invalid(param, "unsupported JSON Schema keyword '" + e.keyword() + "' at " + e.pointer() + ": " + e.getMessage());
            } catch (IllegalArgumentException e) {
                throw ApiError.invalid(param, "invalid JSON Schema: " + e.getMessage());
            }
        });
    }

    private static Grammar cached(String key, java.util.function.Supplier<Grammar> make) {
        synchronized (CACHE) {
            Grammar g = CACHE.get(key);
            if (g != null) return g;
        }
        Grammar g = make.get();
        synchronized (CACHE) {
            CACHE.put(key, g);
        }
        return g;
    }
}
