package dev.gearbox.template;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Converts what callers pass (plain Java maps, lists, arrays, boxed numbers, Jackson trees) into the
 * template's value types ({@link Py}): copies, so rendering never sees or changes the caller's objects.
 */
public final class Values {
    private Values() {}

    public static Object fromJava(Object v) {
        if (v instanceof JsonNode n) return fromJson(n);
        if (v instanceof Map<?, ?> m) {
            Map<Object, Object> out = new LinkedHashMap<>();
            m.forEach((k, x) -> out.put(fromJava(k), fromJava(x)));
            return out;
        }
        if (v instanceof PyTuple || v instanceof Namespace || v instanceof Undefined) return v;
        if (v instanceof Collection<?> c) {
            List<Object> out = new ArrayList<>(c.size());
            for (Object x : c) out.add(fromJava(x));
            return out;
        }
        if (v instanceof Object[] a) return fromJava(List.of(a));
        if (v instanceof Integer || v instanceof Short || v instanceof Byte || v instanceof Float || v instanceof Character
                || v instanceof java.math.BigInteger || v instanceof java.math.BigDecimal) {
            return Py.normalize(v);
        }
        return v;
    }

    /** A Jackson tree as dicts (key order kept), lists, strings, ints, floats, booleans and None. */
    public static Object fromJson(JsonNode n) {
        if (n == null || n.isNull() || n.isMissingNode()) return null;
        if (n.isTextual()) return n.asText();
        if (n.isBoolean()) return n.asBoolean();
        if (n.isIntegralNumber()) return n.canConvertToLong() ? (Object) n.asLong() : (Object) n.asDouble();
        if (n.isNumber()) return n.asDouble();
        if (n.isArray()) {
            List<Object> out = new ArrayList<>(n.size());
            for (JsonNode x : n) out.add(fromJson(x));
            return out;
        }
        if (n.isObject()) {
            Map<Object, Object> out = new LinkedHashMap<>();
            for (Map.Entry<String, JsonNode> e : n.properties()) out.put(e.getKey(), fromJson(e.getValue()));
            return out;
        }
        return n.asText();
    }
}
