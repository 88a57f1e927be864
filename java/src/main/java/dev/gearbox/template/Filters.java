package dev.gearbox.template;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * jinja2's built-in filters as Hugging Face's environment has them, plus Hugging Face's own
 * {@code tojson} (json.dumps with ensure_ascii=False, indent, separators and sort_keys options),
 * which replaces jinja2's HTML-escaping one. Autoescaping is off there, so {@code safe} is the identity,
 * but {@code escape} still escapes, as jinja2's does.
 */
final class Filters {
    private Filters() {}

    static Object apply(String name, Object v, List<Object> pos, Map<String, Object> kw) {
        Args a = new Args("filter '" + name + "'", pos, kw);
        switch (name) {
            case "tojson" -> {
                Object seps = a.get(2, "separators", null);
                String itemSep = null, keySep = null;
                if (seps instanceof List<?> l && l.size() == 2) {
                    itemSep = Py.str(l.get(0));
                    keySep = Py.str(l.get(1));
                }
                return PyJson.dumps(v, a.bool(0, "ensure_ascii", false), a.get(1, "indent", null), itemSep, keySep, a.bool(3, "sort_keys", false));
            }
            case "trim" -> { return PyStrings.strip(Py.str(v), a.string(0, "chars", null), true, true); }
            case "length", "count" -> { return Py.len(v); }
            case "string" -> { return Py.str(v); }
            case "lower" -> { return Py.str(v).toLowerCase(Locale.ROOT); }
            case "upper" -> { return Py.str(v).toUpperCase(Locale.ROOT); }
            case "capitalize" -> { return PyStrings.capitalize(Py.str(v)); }
            case "title" -> { return PyStrings.jinjaTitle(Py.str(v)); }
            case "replace" -> {
                Object count = a.get(2, "count", null);
                return Methods.replace(Py.str(v), Py.str(a.required(0, "old")), Py.str(a.required(1, "new")), count == null ? -1 : Py.toLong(count));
            }
            case "safe" -> { return v; }
            case "e", "escape", "forceescape" -> { return escape(Py.str(v)); }
            case "default", "d" -> {
                Object def = a.get(0, "default_value", "");
                boolean bool = a.bool(1, "boolean", false);
                return v instanceof Undefined || (bool && !Py.truthy(v)) ? def : v;
            }
            case "list" -> { return Py.iterate(v); }
            case "first" -> {
                List<Object> l = Py.iterate(v);
                return l.isEmpty() ? new Undefined("No first item, sequence was empty.") : l.getFirst();
            }
            case "last" -> {
                List<Object> l = Py.iterate(v);
                return l.isEmpty() ? new Undefined("No last item, sequence was empty.") : l.getLast();
            }
            case "join" -> {
                String sep = a.string(0, "d", "");
                Object attr = a.get(1, "attribute", null);
                StringBuilder sb = new StringBuilder();
                boolean first = true;
                for (Object x : Py.iterate(v)) {
                    if (!first) sb.append(sep);
                    first = false;
                    sb.append(Py.str(attr != null ? path(x, attr) : x));
                }
                return sb.toString();
            }
            case "int" -> { return toInt(v, a.get(0, "default", 0L), a.integer(1, "base", 10)); }
            case "float" -> { return toFloat(v, a.get(0, "default", 0.0)); }
            case "abs" -> {
                Object n = Py.num(v);
                if (n instanceof Long l) return Math.abs(l);
                if (n instanceof Double d) return Math.abs(d);
                throw new IllegalArgumentException("bad operand type for abs(): '" + Py.typeName(v) + "'");
            }
            case "round" -> { return round(v, a.integer(0, "precision", 0), a.string(1, "method", "common")); }
            case "items" -> {
                if (v instanceof Undefined) return new ArrayList<>();
                if (!(v instanceof Map<?, ?> m)) throw new IllegalArgumentException("Can only get item pairs from a mapping.");
                List<Object> out = new ArrayList<>();
                m.forEach((x, y) -> out.add(new PyTuple(java.util.Arrays.asList(x, y))));
                return out;
            }
            case "dictsort" -> {
                if (!(v instanceof Map<?, ?> m)) throw new IllegalArgumentException("dictsort needs a mapping, not " + Py.typeName(v));
                boolean cs = a.bool(0, "case_sensitive", false);
                String by = a.string(1, "by", "key");
                boolean rev = a.bool(2, "reverse", false);
                int idx = by.equals("key") ? 0 : by.equals("value") ? 1 : -1;
                if (idx < 0) throw new IllegalArgumentException("You can only sort by either \"key\" or \"value\"");
                List<Object> out = new ArrayList<>();
                m.forEach((x, y) -> out.add(new PyTuple(java.util.Arrays.asList(x, y))));
                Comparator<Object> c = (p, q) -> Py.compare(sortKey(((List<?>) p).get(idx), cs), sortKey(((List<?>) q).get(idx), cs));
                out.sort(rev ? c.reversed() : c);
                return out;
            }
            case "sort" -> {
                boolean rev = a.bool(0, "reverse", false), cs = a.bool(1, "case_sensitive", false);
                Object attr = a.get(2, "attribute", null);
                List<Object> out = Py.iterate(v);
                Comparator<Object> c = (p, q) -> Py.compare(sortKey(attr != null ? path(p, attr) : p, cs), sortKey(attr != null ? path(q, attr) : q, cs));
                out.sort(rev ? c.reversed() : c);
                return out;
            }
            case "reverse" -> {
                if (v instanceof String s) return Py.slice(s, null, null, -1L);
                List<Object> out = Py.iterate(v);
                java.util.Collections.reverse(out);
                return out;
            }
            case "unique" -> {
                boolean cs = a.bool(0, "case_sensitive", false);
                Object attr = a.get(1, "attribute", null);
                List<Object> out = new ArrayList<>(), seen = new ArrayList<>();
                for (Object x : Py.iterate(v)) {
                    Object key = sortKey(attr != null ? path(x, attr) : x, cs);
                    if (!Py.contains(seen, key)) {
                        seen.add(key);
                        out.add(x);
                    }
                }
                return out;
            }
            case "min", "max" -> {
                boolean cs = a.bool(0, "case_sensitive", false);
                Object attr = a.get(1, "attribute", null);
                List<Object> l = Py.iterate(v);
                if (l.isEmpty()) return new Undefined("No aggregated item, sequence was empty.");
                Object best = l.getFirst();
                for (Object x : l) {
                    int c = Py.compare(sortKey(attr != null ? path(x, attr) : x, cs), sortKey(attr != null ? path(best, attr) : best, cs));
                    if (name.equals("min") ? c < 0 : c > 0) best = x;
                }
                return best;
            }
            case "sum" -> {
                Object attr = a.get(0, "attribute", null);
                Object total = a.get(1, "start", 0L);
                for (Object x : Py.iterate(v)) total = Py.arith("+", total, attr != null ? path(x, attr) : x);
                return total;
            }
            case "map" -> { return map(v, pos, kw); }
            case "select", "reject" -> {
                List<Object> out = new ArrayList<>();
                for (Object x : Py.iterate(v)) {
                    boolean ok = pos.isEmpty() ? Py.truthy(x) : Tests.test(Py.str(pos.getFirst()), x, pos.subList(1, pos.size()));
                    if (ok == name.equals("select")) out.add(x);
                }
                return out;
            }
            case "selectattr", "rejectattr" -> {
                Object attr = a.required(0, "attribute");
                List<Object> out = new ArrayList<>();
                for (Object x : Py.iterate(v)) {
                    Object val = path(x, attr);
                    boolean ok = pos.size() < 2 ? Py.truthy(val) : Tests.test(Py.str(pos.get(1)), val, pos.subList(2, pos.size()));
                    if (ok == name.equals("selectattr")) out.add(x);
                }
                return out;
            }
            case "indent" -> {
                Object w = a.get(0, "width", 4L);
                String ind = w instanceof String s ? s : " ".repeat((int) Py.toLong(w));
                return indent(Py.str(v), ind, a.bool(1, "first", false), a.bool(2, "blank", false));
            }
            case "center" -> {
                return Methods.bind(Py.str(v), "center").call(List.of(a.get(0, "width", 80L)), Map.of());
            }
            case "batch" -> {
                long n = a.integer(0, "linecount", 1);
                if (n <= 0) throw new IllegalArgumentException("batch size must be positive");
                Object fill = a.get(1, "fill_with", null);
                boolean hasFill = pos.size() > 1 || kw.containsKey("fill_with");
                List<Object> out = new ArrayList<>();
                List<Object> cur = new ArrayList<>();
                for (Object x : Py.iterate(v)) {
                    cur.add(x);
                    if (cur.size() == n) {
                        out.add(cur);
                        cur = new ArrayList<>();
                    }
                }
                if (!cur.isEmpty()) {
                    if (hasFill && fill != null) while (cur.size() < n) cur.add(fill);
                    out.add(cur);
                }
                return out;
            }
            case "wordcount" -> { return (long) java.util.regex.Pattern.compile("\\w+", java.util.regex.Pattern.UNICODE_CHARACTER_CLASS).matcher(Py.str(v)).results().count(); }
            case "attr" -> { return Access.attr(v, Py.str(a.required(0, "name"))); }
            case "format" -> { return printf(Py.str(v), pos); }
            default -> throw new IllegalArgumentException("no filter named '" + name + "'");
        }
    }

    private static Object map(Object v, List<Object> pos, Map<String, Object> kw) {
        List<Object> out = new ArrayList<>();
        if (kw.containsKey("attribute")) {
            Object attr = kw.get("attribute");
            boolean hasDefault = kw.containsKey("default");
            for (Object x : Py.iterate(v)) {
                Object val = path(x, attr);
                out.add(hasDefault && val instanceof Undefined ? kw.get("default") : val);
            }
            return out;
        }
        if (pos.isEmpty()) throw new IllegalArgumentException("map needs a filter name or attribute=");
        String filter = Py.str(pos.getFirst());
        Map<String, Object> rest = new LinkedHashMap<>(kw);
        for (Object x : Py.iterate(v)) out.add(apply(filter, x, pos.subList(1, pos.size()), rest));
        return out;
    }

    /** jinja2's attribute paths: "a.b.0" looks up a, then b, then item 0. */
    private static Object path(Object obj, Object attr) {
        if (!(attr instanceof String s)) return Access.item(obj, attr);
        Object cur = obj;
        for (String part : s.split("\\.")) {
            if (cur instanceof Undefined) return cur;
            Object key = part.chars().allMatch(Character::isDigit) && !part.isEmpty() ? (Object) Long.parseLong(part) : part;
            cur = Access.item(cur, key);
        }
        return cur;
    }

    private static Object sortKey(Object v, boolean caseSensitive) {
        return !caseSensitive && v instanceof String s ? s.toLowerCase(Locale.ROOT) : v;
    }

    static String escape(String s) {
        StringBuilder sb = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '&' -> sb.append("&amp;");
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '"' -> sb.append("&#34;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }

    /** jinja2's indent: every line after the first (and the first with first=True), blank lines only with blank=True. */
    private static String indent(String s, String ind, boolean first, boolean blank) {
        List<Object> lines = PyStrings.split(s + "\n", "\n", -1);
        lines.removeLast(); // what splitlines() drops after the appended newline
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < lines.size(); i++) {
            String line = (String) lines.get(i);
            if (i > 0) {
                sb.append('\n');
                if (blank || !line.isEmpty()) sb.append(ind);
            }
            sb.append(line);
        }
        return first ? ind + sb : sb.toString();
    }

    private static Object toInt(Object v, Object def, long base) {
        if (v instanceof Long) return v;
        if (v instanceof Boolean b) return b ? 1L : 0L;
        if (v instanceof Double d) return d.isNaN() || d.isInfinite() ? def : (long) (double) d;
        if (v instanceof String s) {
            String t = PyStrings.strip(s, null, true, true).replace("_", "");
            try {
                if (base == 16 && (t.startsWith("0x") || t.startsWith("0X"))) t = t.substring(2);
                return Long.parseLong(t, (int) base);
            } catch (NumberFormatException e) {
                try {
                    return (long) Double.parseDouble(t);
                } catch (NumberFormatException e2) {
                    return def;
                }
            }
        }
        return def;
    }

    private static Object toFloat(Object v, Object def) {
        if (v instanceof Double) return v;
        if (v instanceof Long || v instanceof Boolean) return Py.toDouble(v);
        if (v instanceof String s) {
            try {
                return Double.parseDouble(PyStrings.strip(s, null, true, true));
            } catch (NumberFormatException e) {
                return def;
            }
        }
        return def;
    }

    /** jinja2's round: 'common' is Python's round() (half to even on the exact binary value), 'ceil'/'floor' scale and round. */
    private static Object round(Object v, long precision, String method) {
        Object n = Py.num(v);
        if (n instanceof Long l && method.equals("common")) return l;
        double d = Py.toDouble(n);
        if (Double.isNaN(d) || Double.isInfinite(d)) return d;
        return switch (method) {
            case "common" -> new BigDecimal(d).setScale((int) precision, RoundingMode.HALF_EVEN).doubleValue();
            case "floor" -> Math.floor(d * Math.pow(10, precision)) / Math.pow(10, precision);
            case "ceil" -> Math.ceil(d * Math.pow(10, precision)) / Math.pow(10, precision);
            default -> throw new IllegalArgumentException("method must be common, ceil or floor");
        };
    }

    /** Python's "%s" formatting for the format filter: %s, %r, %d, %i, %f and %%. */
    private static String printf(String fmt, List<Object> args) {
        List<Object> vals = args.size() == 1 && args.getFirst() instanceof PyTuple t ? new ArrayList<>(t) : args;
        StringBuilder sb = new StringBuilder();
        int k = 0;
        for (int i = 0; i < fmt.length(); i++) {
            char c = fmt.charAt(i);
            if (c != '%' || i + 1 >= fmt.length()) {
                sb.append(c);
                continue;
            }
            char f = fmt.charAt(++i);
            if (f == '%') {
                sb.append('%');
                continue;
            }
            if (k >= vals.size()) throw new IllegalArgumentException("not enough arguments for format string");
            Object x = vals.get(k++);
            switch (f) {
                case 's' -> sb.append(Py.str(x));
                case 'r' -> sb.append(Py.repr(x));
                case 'd', 'i' -> sb.append((long) Py.toDouble(x));
                case 'f' -> sb.append(String.format(Locale.ROOT, "%f", Py.toDouble(x)));
                default -> throw new IllegalArgumentException("unsupported format character '" + f + "'");
            }
        }
        return sb.toString();
    }
}
