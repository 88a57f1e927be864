package dev.gearbox.template;

import java.util.List;
import java.util.Map;

/** The arguments of one call of a method, filter or global: positional or by keyword, with defaults. */
record Args(String what, List<Object> positional, Map<String, Object> keywords) {
    /** Argument {@code index} or keyword {@code name}, else {@code def}. */
    Object get(int index, String name, Object def) {
        if (index >= 0 && index < positional.size()) return positional.get(index);
        if (name != null && keywords.containsKey(name)) return keywords.get(name);
        return def;
    }

    Object required(int index, String name) {
        if (index < positional.size() || keywords.containsKey(name)) return get(index, name, null);
        throw new IllegalArgumentException(what + " is missing its argument '" + name + "'");
    }

    String string(int index, String name, String def) {
        Object v = get(index, name, def);
        if (v == null || v instanceof Undefined) return def;
        if (!(v instanceof String s)) throw new IllegalArgumentException(what + ": argument '" + name + "' must be a string, not " + Py.typeName(v));
        return s;
    }

    long integer(int index, String name, long def) {
        Object v = get(index, name, def);
        if (v == null || v instanceof Undefined) return def;
        return Py.toLong(v);
    }

    boolean bool(int index, String name, boolean def) {
        Object v = get(index, name, def);
        return v instanceof Undefined ? def : Py.truthy(v);
    }

    int size() { return positional.size(); }
}
