package dev.gearbox.constrain;

import static dev.gearbox.constrain.Expr.alt;
import static dev.gearbox.constrain.Expr.lit;
import static dev.gearbox.constrain.Expr.opt;
import static dev.gearbox.constrain.Expr.ref;
import static dev.gearbox.constrain.Expr.repeat;
import static dev.gearbox.constrain.Expr.seq;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Compiles a JSON Schema (the {@code schema} of OpenAI's {@code response_format: json_schema}) into a
 * {@link Grammar} whose sentences are exactly JSON texts (with {@link JsonRules}' bounded whitespace)
 * that validate against it — or, where the schema allows several layouts, a subset of them:
 * <ul>
 *   <li><b>objects</b>: {@code properties} in declaration order (required ones always present,
 *       optional ones may be left out but never reordered, as llama.cpp does); {@code required} names
 *       without a declared schema are added with any value. With declared properties no other keys
 *       are generated whatever {@code additionalProperties} says (extra keys are never needed to be
 *       valid, and excluding the declared names from a free key would need a string-complement
 *       grammar). Without declared properties: {@code additionalProperties: false} gives {@code {}},
 *       true or absent any object, a schema any keys with values of that schema.</li>
 *   <li><b>arrays</b>: {@code items}, {@code prefixItems} (or draft-07 array {@code items} with
 *       {@code additionalItems}), {@code minItems}, {@code maxItems}; {@code uniqueItems: false}.</li>
 *   <li><b>strings</b>: {@code minLength}/{@code maxLength} in code points, all escapes, any UTF-8.</li>
 *   <li>{@code integer}, {@code number}, {@code boolean}, {@code null}, type arrays such as
 *       {@code ["string","null"]}, {@code enum}, {@code const} (written as compact JSON),
 *       {@code anyOf} and {@code oneOf} (both as a plain alternation: a value matching two branches
 *       of a oneOf is not excluded), {@code allOf} with one element, local {@code $ref}
 *       ({@code #/$defs/...}, {@code #/definitions/...}, {@code #}, any JSON pointer), recursive
 *       ones included.</li>
 * </ul>
 * Integers take {@code minimum}, {@code maximum}, {@code exclusiveMinimum}, {@code exclusiveMaximum}
 * (numbers, 2019-09/2020-12 style) within 16 digits.
 * Validation keywords it cannot enforce ({@code pattern}, {@code format}, bounds on non-integer numbers,
 * {@code not}, {@code if}, property counts, ...) raise {@link UnsupportedSchemaException} naming the
 * keyword and the schema's JSON pointer. Annotations ({@code title}, {@code description},
 * {@code default}, {@code examples}, ...) and keywords that are no part of JSON Schema are ignored,
 * as validators ignore them.
 */
public final class JsonSchemaCompiler {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static final Set<String> UNSUPPORTED = Set.of(
            "pattern", "format", "multipleOf",
            "patternProperties", "minProperties", "maxProperties", "propertyNames", "dependentRequired",
            "dependentSchemas", "dependencies", "unevaluatedProperties", "unevaluatedItems", "contains",
            "minContains", "maxContains", "not", "if", "then", "else", "$dynamicRef", "$recursiveRef",
            "contentSchema");

    /** Keywords that never constrain a value. */
    private static final Set<String> ANNOTATIONS = Set.of(
            "$schema", "$id", "$comment", "$anchor", "$dynamicAnchor", "$recursiveAnchor", "$vocabulary",
            "$defs", "definitions", "title", "description", "default", "examples", "deprecated", "readOnly",
            "writeOnly", "contentEncoding", "contentMediaType", "nullable", "strict");

    private static final List<String> BOUNDS = List.of("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum");
    private static final Set<String> OBJECT_KEYWORDS = Set.of("properties", "required", "additionalProperties");
    private static final Set<String> ARRAY_KEYWORDS = Set.of("items", "prefixItems", "additionalItems", "minItems", "maxItems", "uniqueItems");
    private static final Set<String> STRING_KEYWORDS = Set.of("minLength", "maxLength");

    private final JsonNode document;
    private final GrammarBuilder b = new GrammarBuilder();
    private final Map<String, String> refRules = new HashMap<>();
    private int counter;

    private JsonSchemaCompiler(JsonNode document) {
        this.document = document;
    }

    /** The grammar of JSON texts valid under {@code schema}; an {@link UnsupportedSchemaException} otherwise. */
    public static Grammar compile(JsonNode schema) {
        if (schema == null) throw new UnsupportedSchemaException("schema", "", "no schema given");
        JsonSchemaCompiler c = new JsonSchemaCompiler(schema);
        JsonRules.defineAnyValue(c.b);
        c.b.rule("root", c.expr(schema, ""));
        try {
            return c.b.build("root");
        } catch (GrammarException e) {
            // Only a $ref can make the compiled rules left-recursive (a schema that refers to itself
            // before any byte of output, e.g. anyOf: [{$ref: "#"}, ...]).
            throw new UnsupportedSchemaException("$ref", "", "the schema refers to itself without any output in between (" + e.getMessage() + ")");
        }
    }

    /** Parses {@code schemaJson} and compiles it. */
    public static Grammar compile(String schemaJson) {
        try {
            return compile(JSON.readTree(schemaJson));
        } catch (JsonProcessingException e) {
            throw new UnsupportedSchemaException("schema", "", "not valid JSON: " + e.getOriginalMessage());
        }
    }

    private Expr expr(JsonNode s, String ptr) {
        if (s.isBoolean()) {
            if (s.booleanValue()) return ref(JsonRules.VALUE);
            throw new UnsupportedSchemaException("false", ptr, "the schema false matches nothing");
        }
        if (!s.isObject()) throw new UnsupportedSchemaException("schema", ptr, "a schema must be an object or a boolean, got " + s.getNodeType());
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (UNSUPPORTED.contains(k)) throw new UnsupportedSchemaException(k, ptr, "this keyword is not supported by constrained decoding");
        }
        if (s.has("uniqueItems") && s.get("uniqueItems").asBoolean(false)) {
            throw new UnsupportedSchemaException("uniqueItems", ptr, "uniqueItems: true is not supported");
        }
        if (s.has("$ref")) {
            onlyKeyword(s, ptr, "$ref");
            return ref(refRule(s.get("$ref"), ptr));
        }
        if (s.has("const")) return literal(s.get("const"));
        if (s.has("enum")) {
            JsonNode values = s.get("enum");
            if (!values.isArray() || values.isEmpty()) throw new UnsupportedSchemaException("enum", ptr, "enum must be a non-empty array");
            List<Expr> options = new ArrayList<>();
            for (JsonNode v : values) options.add(literal(v));
            return alt(options);
        }
        for (String k : List.of("anyOf", "oneOf")) {
            if (!s.has(k)) continue;
            onlyKeyword(s, ptr, k);
            JsonNode options = s.get(k);
            if (!options.isArray() || options.isEmpty()) throw new UnsupportedSchemaException(k, ptr, k + " must be a non-empty array");
            List<Expr> alts = new ArrayList<>();
            for (int i = 0; i < options.size(); i++) alts.add(expr(options.get(i), ptr + "/" + k + "/" + i));
            return alt(alts);
        }
        if (s.has("allOf")) {
            JsonNode all = s.get("allOf");
            if (!all.isArray() || all.size() != 1) throw new UnsupportedSchemaException("allOf", ptr, "only allOf with exactly one schema is supported");
            onlyKeyword(s, ptr, "allOf");
            return expr(all.get(0), ptr + "/allOf/0");
        }
        JsonNode type = s.get("type");
        if (type == null) return typed(inferType(s), s, ptr);
        if (type.isTextual()) return typed(type.textValue(), s, ptr);
        if (type.isArray() && !type.isEmpty()) {
            List<Expr> alts = new ArrayList<>();
            for (JsonNode t : type) {
                if (!t.isTextual()) throw new UnsupportedSchemaException("type", ptr, "type names must be strings");
                alts.add(typed(t.textValue(), s, ptr));
            }
            return alt(alts);
        }
        throw new UnsupportedSchemaException("type", ptr, "type must be a string or a non-empty array of strings");
    }

    // Without "type", keywords of one kind say what was meant; a value of that kind is always valid.
    private static String inferType(JsonNode s) {
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (OBJECT_KEYWORDS.contains(k)) return "object";
            if (ARRAY_KEYWORDS.contains(k) && !k.equals("uniqueItems")) return "array";
            if (STRING_KEYWORDS.contains(k)) return "string";
            if (BOUNDS.contains(k)) return "integer"; // integers are the numbers whose bounds we can enforce
        }
        return "any";
    }

    private Expr typed(String type, JsonNode s, String ptr) {
        return switch (type) {
            case "object" -> object(s, ptr);
            case "array" -> array(s, ptr);
            case "string" -> string(s, ptr);
            case "integer" -> integer(s, ptr);
            case "number" -> {
                for (String k : BOUNDS) if (s.has(k)) throw new UnsupportedSchemaException(k, ptr, "bounds are supported on integers only");
                yield ref(JsonRules.NUMBER);
            }
            case "boolean" -> ref(JsonRules.BOOLEAN);
            case "null" -> ref(JsonRules.NULL);
            case "any" -> ref(JsonRules.VALUE);
            default -> throw new UnsupportedSchemaException("type", ptr, "unknown type '" + type + "'");
        };
    }

    // A combinator (or $ref) with sibling validation keywords would need an intersection of grammars.
    private static void onlyKeyword(JsonNode s, String ptr, String keyword) {
        for (Iterator<String> it = s.fieldNames(); it.hasNext(); ) {
            String k = it.next();
            if (!k.equals(keyword) && !ANNOTATIONS.contains(k) && isValidationKeyword(k)) {
                throw new UnsupportedSchemaException(k, ptr, "'" + k + "' next to '" + keyword + "' is not supported; move it into the " + keyword);
            }
        }
    }

    private static boolean isValidationKeyword(String k) {
        return OBJECT_KEYWORDS.contains(k) || ARRAY_KEYWORDS.contains(k) || STRING_KEYWORDS.contains(k)
                || Set.of("type", "enum", "const", "anyOf", "oneOf", "allOf", "$ref").contains(k);
    }

    private String refRule(JsonNode refNode, String ptr) {
        if (!refNode.isTextual()) throw new UnsupportedSchemaException("$ref", ptr, "$ref must be a string");
        String ref = refNode.textValue();
        if (!ref.startsWith("#")) throw new UnsupportedSchemaException("$ref", ptr, "only local references (#/...) are supported, got '" + ref + "'");
        String target = URLDecoder.decode(ref.substring(1), StandardCharsets.UTF_8);
        String name = refRules.get(target);
        if (name != null) return name;
        JsonNode schema;
        try {
            schema = target.isEmpty() ? document : document.at(target);
        } catch (IllegalArgumentException e) {
            throw new UnsupportedSchemaException("$ref", ptr, "'" + ref + "' is not a JSON pointer");
        }
        if (schema == null || schema.isMissingNode()) throw new UnsupportedSchemaException("$ref", ptr, "'" + ref + "' points to nothing");
        name = "ref" + (counter++) + (target.isEmpty() ? "-root" : target.replace('/', '-'));
        refRules.put(target, name); // before compiling the target, so that recursion finds it
        b.rule(name, expr(schema, target));
        return name;
    }

    private Expr literal(JsonNode value) {
        try {
            return lit(JSON.writeValueAsString(value));
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialise a parsed JSON value", e);
        }
    }

    private String named(String hint, Expr body) {
        String name = hint + "-" + (counter++);
        b.rule(name, body);
        return name;
    }

    // minimum/maximum (inclusive) and exclusiveMinimum/exclusiveMaximum (2019+ numbers) on integers.
    private static Expr integer(JsonNode s, String ptr) {
        long lo = -IntegerRange.LIMIT, hi = IntegerRange.LIMIT;
        boolean bounded = false;
        for (String k : BOUNDS) {
            JsonNode v = s.get(k);
            if (v == null) continue;
            if (!v.isNumber()) throw new UnsupportedSchemaException(k, ptr, k + " must be a number (draft-04 boolean exclusive bounds are not supported)");
            double d = v.doubleValue();
            if (Math.abs(d) > IntegerRange.LIMIT) throw new UnsupportedSchemaException(k, ptr, k + " beyond 16 digits is not supported");
            bounded = true;
            switch (k) {
                case "minimum" -> lo = Math.max(lo, (long) Math.ceil(d));
                case "exclusiveMinimum" -> lo = Math.max(lo, (long) Math.floor(d) + 1);
                case "maximum" -> hi = Math.min(hi, (long) Math.floor(d));
                default -> hi = Math.min(hi, (long) Math.ceil(d) - 1);
            }
        }
        if (!bounded) return ref(JsonRules.INTEGER);
        if (lo > hi) throw new UnsupportedSchemaException("minimum", ptr, "no integer lies between the bounds");
        return IntegerRange.of(lo, hi);
    }

    private Expr string(JsonNode s, String ptr) {
        int min = count(s, "minLength", ptr, 0);
        int max = count(s, "maxLength", ptr, -1);
        if (max >= 0 && min > max) throw new UnsupportedSchemaException("minLength", ptr, "minLength " + min + " > maxLength " + max + ": nothing is valid");
        if (min == 0 && max < 0) return ref(JsonRules.STRING);
        return seq(lit("\""), repeat(ref(JsonRules.CHAR), min, max), lit("\""));
    }

    private Expr object(JsonNode s, String ptr) {
        JsonNode props = s.get("properties");
        if (props != null && !props.isObject()) throw new UnsupportedSchemaException("properties", ptr, "properties must be an object");
        Set<String> required = new LinkedHashSet<>();
        JsonNode req = s.get("required");
        if (req != null) {
            if (!req.isArray()) throw new UnsupportedSchemaException("required", ptr, "required must be an array of names");
            for (JsonNode r : req) {
                if (!r.isTextual()) throw new UnsupportedSchemaException("required", ptr, "required must be an array of names");
                required.add(r.textValue());
            }
        }
        JsonNode additional = s.get("additionalProperties");
        List<String> names = new ArrayList<>();
        List<Expr> values = new ArrayList<>();
        if (props != null) {
            for (Iterator<Map.Entry<String, JsonNode>> it = props.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                names.add(e.getKey());
                values.add(ref(named("prop", expr(e.getValue(), ptr + "/properties/" + escape(e.getKey())))));
            }
        }
        for (String r : required) {
            if (names.contains(r)) continue;
            if (additional != null && additional.isBoolean() && !additional.booleanValue()) {
                throw new UnsupportedSchemaException("required", ptr, "'" + r + "' is required but additionalProperties is false and it is not declared");
            }
            names.add(r);
            values.add(additional == null || additional.isBoolean() ? ref(JsonRules.VALUE)
                    : ref(named("prop", expr(additional, ptr + "/additionalProperties"))));
        }
        if (names.isEmpty()) {
            if (additional == null || (additional.isBoolean() && additional.booleanValue())) return ref(JsonRules.OBJECT);
            if (additional.isBoolean()) return seq(lit("{"), ref(JsonRules.WS), lit("}"));
            Expr value = ref(named("value", expr(additional, ptr + "/additionalProperties")));
            return JsonRules.list("{", member(ref(JsonRules.STRING), value), "}", 0, -1);
        }
        // rest(i, first): the members from i on, "first" when none was written yet (no comma).
        // Named rules, two per property, keep this linear where nested expressions would double.
        int id = counter++;
        String[] restFirst = new String[names.size() + 1];
        String[] restLater = new String[names.size() + 1];
        for (int i = names.size(); i >= 0; i--) {
            restFirst[i] = "obj" + id + "-" + i + "f";
            restLater[i] = "obj" + id + "-" + i + "n";
            if (i == names.size()) {
                b.rule(restFirst[i], Expr.empty());
                b.rule(restLater[i], Expr.empty());
                continue;
            }
            Expr m = member(literal(JSON.getNodeFactory().textNode(names.get(i))), values.get(i));
            Expr firstHere = seq(m, ref(JsonRules.WS), ref(restLater[i + 1]));
            Expr laterHere = seq(lit(","), ref(JsonRules.WS), m, ref(JsonRules.WS), ref(restLater[i + 1]));
            boolean req_i = required.contains(names.get(i));
            b.rule(restFirst[i], req_i ? firstHere : alt(firstHere, ref(restFirst[i + 1])));
            b.rule(restLater[i], req_i ? laterHere : alt(laterHere, ref(restLater[i + 1])));
        }
        return seq(lit("{"), ref(JsonRules.WS), ref(restFirst[0]), lit("}"));
    }

    private static Expr member(Expr key, Expr value) {
        return seq(key, ref(JsonRules.WS), lit(":"), ref(JsonRules.WS), value);
    }

    private Expr array(JsonNode s, String ptr) {
        List<Expr> prefix = new ArrayList<>();
        JsonNode restSchema;
        String restPtr;
        JsonNode items = s.get("items");
        if (s.has("prefixItems")) {
            JsonNode p = s.get("prefixItems");
            if (!p.isArray()) throw new UnsupportedSchemaException("prefixItems", ptr, "prefixItems must be an array");
            for (int i = 0; i < p.size(); i++) prefix.add(ref(named("item", expr(p.get(i), ptr + "/prefixItems/" + i))));
            restSchema = items;
            restPtr = ptr + "/items";
        } else if (items != null && items.isArray()) { // draft-07 tuples
            for (int i = 0; i < items.size(); i++) prefix.add(ref(named("item", expr(items.get(i), ptr + "/items/" + i))));
            restSchema = s.get("additionalItems");
            restPtr = ptr + "/additionalItems";
        } else {
            restSchema = items;
            restPtr = ptr + "/items";
        }
        int min = count(s, "minItems", ptr, 0);
        int max = count(s, "maxItems", ptr, -1);
        boolean noRest = restSchema != null && restSchema.isBoolean() && !restSchema.booleanValue();
        if (noRest) max = max < 0 ? prefix.size() : Math.min(max, prefix.size());
        if (max >= 0 && min > max) {
            throw new UnsupportedSchemaException("minItems", ptr, "minItems " + min + " > the most items allowed (" + max + "): nothing is valid");
        }
        Expr rest = noRest ? null : restSchema == null ? ref(JsonRules.VALUE) : ref(named("item", expr(restSchema, restPtr)));
        if (prefix.isEmpty()) return JsonRules.list("[", rest, "]", min, max);
        return seq(lit("["), ref(JsonRules.WS), tail(0, prefix, rest, min, max), lit("]"));
    }

    // The items after the first i, each "item ws", comma-separated; prefix items first, then rest.
    private static Expr tail(int i, List<Expr> prefix, Expr rest, int min, int max) {
        if (max >= 0 && i >= max) return Expr.empty();
        Expr comma = i == 0 ? Expr.empty() : seq(lit(","), ref(JsonRules.WS));
        if (i >= prefix.size()) {
            int lo = Math.max(0, min - i);
            int hi = max < 0 ? -1 : max - i;
            return repeat(seq(lit(","), ref(JsonRules.WS), rest, ref(JsonRules.WS)), lo, hi);
        }
        Expr here = seq(comma, prefix.get(i), ref(JsonRules.WS), tail(i + 1, prefix, rest, min, max));
        return i >= min ? opt(here) : here;
    }

    private static int count(JsonNode s, String keyword, String ptr, int absent) {
        JsonNode v = s.get(keyword);
        if (v == null) return absent;
        if (!v.isIntegralNumber() && !(v.isNumber() && v.doubleValue() == Math.rint(v.doubleValue()))) {
            throw new UnsupportedSchemaException(keyword, ptr, keyword + " must be a non-negative integer");
        }
        long n = v.asLong();
        if (n < 0) throw new UnsupportedSchemaException(keyword, ptr, keyword + " must be a non-negative integer");
        if (n > 100_000) throw new UnsupportedSchemaException(keyword, ptr, keyword + " above 100000 is not supported");
        return (int) n;
    }

    private static String escape(String name) {
        return name.replace("~", "~0").replace("/", "~1");
    }
}
