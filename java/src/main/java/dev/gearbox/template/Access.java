package dev.gearbox.template;

import java.util.List;
import java.util.Map;

/**
 * {@code obj.name} and {@code obj[key]} as jinja2 resolves them: {@code .name} tries the Python
 * attribute (a str/list/dict method, a namespace or loop attribute) before the dict item, {@code [key]}
 * the item before the attribute. A missing one is {@link Undefined}; anything taken from an undefined
 * value is an error, as with jinja2's default Undefined.
 */
final class Access {
    private Access() {}

    static Object attr(Object obj, String name) {
        if (obj instanceof Undefined u) throw new Py.UndefinedException(u.hint());
        // Namespace and loop attributes may hold None, so they are looked up here rather than via null-means-absent.
        if (obj instanceof Namespace ns) return ns.attrs.containsKey(name) ? ns.attrs.get(name) : missing(obj, name);
        if (obj instanceof LoopContext loop) {
            boolean[] found = new boolean[1];
            Object v = loop.attr(name, found);
            return found[0] ? v : missing(obj, name);
        }
        Object a = pythonAttr(obj, name);
        if (a != null) return a;
        if (obj instanceof Map<?, ?> m && m.containsKey(name)) return m.get(name);
        return missing(obj, name);
    }

    static Object item(Object obj, Object key) {
        if (obj instanceof Undefined u) throw new Py.UndefinedException(u.hint());
        Py.checkDefined(key);
        if (obj instanceof Map<?, ?> m) {
            Object k = key instanceof Boolean b ? (Object) (b ? 1L : 0L) : key;
            if (m.containsKey(key)) return m.get(key);
            if (m.containsKey(k)) return m.get(k);
            if (key instanceof Double d && d == Math.rint(d) && m.containsKey((long) (double) d)) return m.get((long) (double) d);
        } else if ((obj instanceof List || obj instanceof String) && (key instanceof Long || key instanceof Boolean)) {
            boolean[] found = new boolean[1];
            Object v = Py.index(obj, Py.toLong(key), found);
            if (found[0]) return v;
            return new Undefined(Py.typeName(obj) + " index out of range");
        }
        if (key instanceof String s && (obj instanceof Namespace || obj instanceof LoopContext)) return attr(obj, s);
        if (key instanceof String s) {
            Object a = pythonAttr(obj, s);
            if (a != null) return a;
            return missing(obj, s);
        }
        return new Undefined("'" + Py.typeName(obj) + " object' has no item " + Py.repr(key));
    }

    /** The Python attribute of obj, or null when it has none. */
    private static Object pythonAttr(Object obj, String name) {
        if (obj instanceof Namespace ns) return ns.attrs.containsKey(name) ? ns.attrs.get(name) : null;
        if (obj instanceof LoopContext loop) {
            boolean[] found = new boolean[1];
            Object v = loop.attr(name, found);
            return found[0] ? v : null;
        }
        return Methods.bind(obj, name);
    }

    private static Undefined missing(Object obj, String name) {
        return new Undefined("'" + (obj == null ? "None" : Py.typeName(obj) + " object") + "' has no attribute '" + name + "'");
    }
}
