package dev.gearbox.template;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Python's {@code json.dumps}, which Hugging Face's {@code tojson} filter calls with
 * {@code ensure_ascii=False} by default: separators {@code ", "} and {@code ": "} (or {@code ","} plus
 * newlines with an indent), keys in insertion order unless {@code sort_keys}, floats as Python's repr,
 * and only {@code " \ } and control characters escaped (every non-ASCII one too with ensure_ascii).
 */
final class PyJson {
    private PyJson() {}

    static String dumps(Object v, boolean ensureAscii, Object indent, String itemSep, String keySep, boolean sortKeys) {
        String ind = null;
        if (indent instanceof String s) ind = s;
        else if (indent != null && !(indent instanceof Undefined)) ind = " ".repeat((int) Math.max(0, Py.toLong(indent)));
        if (itemSep == null) itemSep = ind != null ? "," : ", ";
        if (keySep == null) keySep = ": ";
        StringBuilder sb = new StringBuilder();
        write(sb, v, ensureAscii, ind, itemSep, keySep, sortKeys, 0);
        return sb.toString();
    }

    private static void write(StringBuilder sb, Object v, boolean ascii, String ind, String itemSep, String keySep, boolean sort, int level) {
        if (v == null) sb.append("null");
        else if (v instanceof Boolean b) sb.append(b ? "true" : "false");
        else if (v instanceof Long l) sb.append(l);
        else if (v instanceof Double d) {
            if (d.isNaN()) sb.append("NaN");
            else if (d.isInfinite()) sb.append(d > 0 ? "Infinity" : "-Infinity");
            else sb.append(Py.floatRepr(d));
        } else if (v instanceof String s) string(sb, s, ascii);
        else if (v instanceof List<?> l) {
            if (l.isEmpty()) {
                sb.append("[]");
                return;
            }
            sb.append('[');
            for (int i = 0; i < l.size(); i++) {
                if (i > 0) sb.append(itemSep);
                newline(sb, ind, level + 1);
                write(sb, l.get(i), ascii, ind, itemSep, keySep, sort, level + 1);
            }
            newline(sb, ind, level);
            sb.append(']');
        } else if (v instanceof Map<?, ?> m) {
            if (m.isEmpty()) {
                sb.append("{}");
                return;
            }
            List<Map.Entry<?, ?>> entries = new ArrayList<>(m.entrySet());
            if (sort) entries.sort((x, y) -> Py.compare(x.getKey(), y.getKey()));
            sb.append('{');
            boolean first = true;
            for (Map.Entry<?, ?> e : entries) {
                if (!first) sb.append(itemSep);
                first = false;
                newline(sb, ind, level + 1);
                string(sb, keyString(e.getKey()), ascii);
                sb.append(keySep);
                write(sb, e.getValue(), ascii, ind, itemSep, keySep, sort, level + 1);
            }
            newline(sb, ind, level);
            sb.append('}');
        } else if (v instanceof Namespace) {
            throw new IllegalArgumentException("Object of type Namespace is not JSON serializable");
        } else if (v instanceof Undefined u) {
            throw new Py.UndefinedException(u.hint());
        } else {
            throw new IllegalArgumentException("Object of type " + Py.typeName(v) + " is not JSON serializable");
        }
    }

    /** json.dumps turns non-string keys into strings (True -> "true", 1 -> "1", None -> "null"). */
    private static String keyString(Object k) {
        if (k instanceof String s) return s;
        if (k == null) return "null";
        if (k instanceof Boolean b) return b ? "true" : "false";
        if (k instanceof Long || k instanceof Double) return Py.repr(k);
        throw new IllegalArgumentException("keys must be str, int, float, bool or None, not " + Py.typeName(k));
    }

    private static void newline(StringBuilder sb, String ind, int level) {
        if (ind == null) return;
        sb.append('\n');
        for (int i = 0; i < level; i++) sb.append(ind);
    }

    private static void string(StringBuilder sb, String s, boolean ascii) {
        sb.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> sb.append("\\\"");
                case '\\' -> sb.append("\\\\");
                case '\n' -> sb.append("\\n");
                case '\r' -> sb.append("\\r");
                case '\t' -> sb.append("\\t");
                case '\b' -> sb.append("\\b");
                case '\f' -> sb.append("\\f");
                default -> {
                    if (c < 0x20 || (ascii && c > 0x7e)) sb.append(String.format("\\u%04x", (int) c)); // UTF-16 units, as Python
                    else sb.append(c);
                }
            }
        }
        sb.append('"');
    }
}
