package dev.gearbox.template;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Python's meaning of the values a template sees, since jinja2 evaluates everything as Python:
 * truth, {@code str()} and {@code repr()}, equality and ordering, arithmetic, {@code len}, iteration
 * and indexing. Values are Java String, Long (ints), Double, Boolean, null (None), List (list or
 * {@link PyTuple}), Map (dict, insertion-ordered), {@link Namespace}, {@link Undefined} and
 * {@link PyCallable}. Strings are indexed and measured by code point, as Python's are.
 */
final class Py {
    private Py() {}

    /** Turns caller values (Integer, Float, Jackson-free plain Java) into the value types above. */
    static Object normalize(Object v) {
        if (v instanceof Integer || v instanceof Short || v instanceof Byte) return ((Number) v).longValue();
        if (v instanceof Float f) return f.doubleValue();
        if (v instanceof java.math.BigInteger b) return b.longValueExact();
        if (v instanceof BigDecimal d) return d.doubleValue();
        if (v instanceof Character c) return c.toString();
        return v;
    }

    static boolean truthy(Object v) {
        if (v == null || v instanceof Undefined) return false;
        if (v instanceof Boolean b) return b;
        if (v instanceof Long l) return l != 0;
        if (v instanceof Double d) return d != 0.0;
        if (v instanceof String s) return !s.isEmpty();
        if (v instanceof List<?> l) return !l.isEmpty();
        if (v instanceof Map<?, ?> m) return !m.isEmpty();
        return true;
    }

    static String typeName(Object v) {
        if (v == null) return "NoneType";
        if (v instanceof Undefined) return "Undefined";
        if (v instanceof Boolean) return "bool";
        if (v instanceof Long) return "int";
        if (v instanceof Double) return "float";
        if (v instanceof String) return "str";
        if (v instanceof PyTuple) return "tuple";
        if (v instanceof List) return "list";
        if (v instanceof Map) return "dict";
        if (v instanceof Namespace) return "Namespace";
        if (v instanceof Macro) return "Macro";
        if (v instanceof PyCallable) return "function";
        return v.getClass().getSimpleName();
    }

    /** Python's str(v). */
    static String str(Object v) {
        if (v instanceof String s) return s;
        if (v instanceof Undefined) return "";
        return repr(v);
    }

    /** Python's repr(v). */
    static String repr(Object v) {
        if (v == null) return "None";
        if (v instanceof Boolean b) return b ? "True" : "False";
        if (v instanceof Long l) return l.toString();
        if (v instanceof Double d) return floatRepr(d);
        if (v instanceof String s) return strRepr(s);
        if (v instanceof Undefined) return "";
        if (v instanceof PyTuple t) {
            StringBuilder sb = new StringBuilder("(");
            for (int i = 0; i < t.size(); i++) sb.append(i > 0 ? ", " : "").append(repr(t.get(i)));
            return sb.append(t.size() == 1 ? ",)" : ")").toString();
        }
        if (v instanceof List<?> l) {
            StringBuilder sb = new StringBuilder("[");
            for (int i = 0; i < l.size(); i++) sb.append(i > 0 ? ", " : "").append(repr(l.get(i)));
            return sb.append(']').toString();
        }
        if (v instanceof Map<?, ?> m) {
            StringBuilder sb = new StringBuilder("{");
            boolean first = true;
            for (Map.Entry<?, ?> e : m.entrySet()) {
                sb.append(first ? "" : ", ").append(repr(e.getKey())).append(": ").append(repr(e.getValue()));
                first = false;
            }
            return sb.append('}').toString();
        }
        return v.toString();
    }

    /** Python's float repr: the shortest digits that round-trip, exponent form below 1e-4 and from 1e16. */
    static String floatRepr(double d) {
        if (Double.isNaN(d)) return "nan";
        if (Double.isInfinite(d)) return d > 0 ? "inf" : "-inf";
        if (d == 0) return (1 / d < 0) ? "-0.0" : "0.0";
        // Java's Double.toString gives the shortest round-tripping digits (JDK 19+); only the layout differs.
        BigDecimal bd = new BigDecimal(Double.toString(d)).stripTrailingZeros();
        String digits = bd.unscaledValue().abs().toString();
        int exp = digits.length() - 1 - bd.scale(); // decimal exponent of the first digit
        String sign = d < 0 ? "-" : "";
        if (exp < -4 || exp >= 16) {
            String mant = digits.length() == 1 ? digits : digits.charAt(0) + "." + digits.substring(1);
            return sign + mant + "e" + (exp < 0 ? "-" : "+") + (Math.abs(exp) < 10 ? "0" : "") + Math.abs(exp);
        }
        String plain = bd.abs().toPlainString();
        return sign + (plain.contains(".") ? plain : plain + ".0");
    }

    static String strRepr(String s) {
        char quote = s.indexOf('\'') >= 0 && s.indexOf('"') < 0 ? '"' : '\'';
        StringBuilder sb = new StringBuilder().append(quote);
        s.codePoints().forEach(c -> {
            if (c == quote || c == '\\') sb.append('\\').appendCodePoint(c);
            else if (c == '\n') sb.append("\\n");
            else if (c == '\r') sb.append("\\r");
            else if (c == '\t') sb.append("\\t");
            else if (c < 0x20 || c == 0x7f) sb.append(String.format("\\x%02x", c));
            else sb.appendCodePoint(c);
        });
        return sb.append(quote).toString();
    }

    // ---- numbers ----

    static boolean isNumber(Object v) { return v instanceof Long || v instanceof Double || v instanceof Boolean; }

    /** bool counts as int in Python arithmetic. */
    static Object num(Object v) { return v instanceof Boolean b ? (b ? 1L : 0L) : v; }

    static double toDouble(Object v) {
        Object n = num(v);
        if (n instanceof Long l) return l;
        if (n instanceof Double d) return d;
        throw new IllegalArgumentException("expected a number, got " + typeName(v));
    }

    static long toLong(Object v) {
        Object n = num(v);
        if (n instanceof Long l) return l;
        throw new IllegalArgumentException("expected an integer, got " + typeName(v));
    }

    static Object arith(String op, Object a, Object b) {
        checkDefined(a);
        checkDefined(b);
        if (op.equals("+")) {
            if (a instanceof String x && b instanceof String y) return x + y;
            if (a instanceof List<?> x && b instanceof List<?> y && (a instanceof PyTuple) == (b instanceof PyTuple)) {
                List<Object> out = new ArrayList<>(x);
                out.addAll(y);
                return a instanceof PyTuple ? new PyTuple(out) : out;
            }
        }
        if (op.equals("*")) {
            if (a instanceof String s && isInt(b)) return s.repeat((int) Math.max(0, toLong(b)));
            if (b instanceof String s && isInt(a)) return s.repeat((int) Math.max(0, toLong(a)));
            if (a instanceof List<?> l && isInt(b)) return repeat(l, toLong(b));
            if (b instanceof List<?> l && isInt(a)) return repeat(l, toLong(a));
        }
        if (op.equals("%") && a instanceof String) throw new IllegalArgumentException("printf-style '%' on strings is not supported");
        if (!isNumber(a) || !isNumber(b)) {
            throw new IllegalArgumentException("unsupported operand types for " + op + ": '" + typeName(a) + "' and '" + typeName(b) + "'");
        }
        Object x = num(a), y = num(b);
        if (x instanceof Long i && y instanceof Long j) {
            return switch (op) {
                case "+" -> Math.addExact(i, j);
                case "-" -> Math.subtractExact(i, j);
                case "*" -> Math.multiplyExact(i, j);
                case "/" -> { if (j == 0) throw zero(); yield (double) i / j; }
                case "//" -> { if (j == 0) throw zero(); yield Math.floorDiv(i, j); }
                case "%" -> { if (j == 0) throw zero(); yield Math.floorMod(i, j); }
                case "**" -> j >= 0 ? (Object) powExact(i, j) : (Object) Math.pow(i, j);
                default -> throw new IllegalArgumentException("unknown operator " + op);
            };
        }
        double p = toDouble(x), q = toDouble(y);
        return switch (op) {
            case "+" -> p + q;
            case "-" -> p - q;
            case "*" -> p * q;
            case "/" -> { if (q == 0) throw zero(); yield p / q; }
            case "//" -> { if (q == 0) throw zero(); yield Math.floor(p / q); }
            case "%" -> { if (q == 0) throw zero(); double m = p % q; yield m != 0 && (m < 0) != (q < 0) ? m + q : m; }
            case "**" -> Math.pow(p, q);
            default -> throw new IllegalArgumentException("unknown operator " + op);
        };
    }

    private static boolean isInt(Object v) { return v instanceof Long || v instanceof Boolean; }

    private static List<Object> repeat(List<?> l, long n) {
        List<Object> out = new ArrayList<>();
        for (long i = 0; i < n; i++) out.addAll(l);
        return out;
    }

    private static long powExact(long b, long e) {
        long r = 1;
        for (long i = 0; i < e; i++) r = Math.multiplyExact(r, b);
        return r;
    }

    private static ArithmeticException zero() { return new ArithmeticException("division by zero"); }

    static void checkDefined(Object v) {
        if (v instanceof Undefined u) throw new UndefinedException(u.hint());
    }

    // ---- comparison ----

    static boolean eq(Object a, Object b) {
        if (a == b) return true;
        if (a == null || b == null) return false;
        if (a instanceof Undefined || b instanceof Undefined) return a instanceof Undefined && b instanceof Undefined;
        if (isNumber(a) && isNumber(b)) {
            Object x = num(a), y = num(b);
            if (x instanceof Long i && y instanceof Long j) return i.longValue() == j.longValue();
            return toDouble(x) == toDouble(y);
        }
        if (a instanceof List<?> x && b instanceof List<?> y) {
            if ((a instanceof PyTuple) != (b instanceof PyTuple) || x.size() != y.size()) return false;
            for (int i = 0; i < x.size(); i++) if (!eq(x.get(i), y.get(i))) return false;
            return true;
        }
        if (a instanceof Map<?, ?> x && b instanceof Map<?, ?> y) {
            if (x.size() != y.size()) return false;
            for (Map.Entry<?, ?> e : x.entrySet()) {
                if (!y.containsKey(e.getKey()) || !eq(e.getValue(), y.get(e.getKey()))) return false;
            }
            return true;
        }
        return a.equals(b);
    }

    /** Python ordering: numbers with numbers, strings by code point, lists element-wise. */
    static int compare(Object a, Object b) {
        checkDefined(a);
        checkDefined(b);
        if (isNumber(a) && isNumber(b)) {
            Object x = num(a), y = num(b);
            if (x instanceof Long i && y instanceof Long j) return Long.compare(i, j);
            return Double.compare(toDouble(x), toDouble(y));
        }
        if (a instanceof String x && b instanceof String y) return compareCodePoints(x, y);
        if (a instanceof List<?> x && b instanceof List<?> y) {
            for (int i = 0; i < Math.min(x.size(), y.size()); i++) {
                if (!eq(x.get(i), y.get(i))) return compare(x.get(i), y.get(i));
            }
            return Integer.compare(x.size(), y.size());
        }
        throw new IllegalArgumentException("'<' not supported between instances of '" + typeName(a) + "' and '" + typeName(b) + "'");
    }

    static int compareCodePoints(String x, String y) {
        int i = 0, j = 0;
        while (i < x.length() && j < y.length()) {
            int c = x.codePointAt(i), d = y.codePointAt(j);
            if (c != d) return Integer.compare(c, d);
            i += Character.charCount(c);
            j += Character.charCount(d);
        }
        return Integer.compare(x.length() - i, y.length() - j);
    }

    static boolean contains(Object container, Object item) {
        if (container instanceof Undefined) return false;
        if (container instanceof String s) {
            if (!(item instanceof String t)) throw new IllegalArgumentException("'in <string>' requires string as left operand, not " + typeName(item));
            return s.contains(t);
        }
        if (container instanceof List<?> l) {
            for (Object o : l) if (eq(o, item)) return true;
            return false;
        }
        if (container instanceof Map<?, ?> m) return m.containsKey(item);
        throw new IllegalArgumentException("argument of type '" + typeName(container) + "' is not iterable");
    }

    // ---- sequences ----

    static long len(Object v) {
        if (v instanceof Undefined) return 0;
        if (v instanceof String s) return s.codePointCount(0, s.length());
        if (v instanceof List<?> l) return l.size();
        if (v instanceof Map<?, ?> m) return m.size();
        throw new IllegalArgumentException("object of type '" + typeName(v) + "' has no len()");
    }

    /** The items a for loop (or list()) sees: list items, dict keys, string characters. */
    static List<Object> iterate(Object v) {
        if (v instanceof Undefined) return List.of();
        if (v instanceof List<?> l) return new ArrayList<>(l);
        if (v instanceof Map<?, ?> m) return new ArrayList<>(m.keySet());
        if (v instanceof String s) return new ArrayList<>(codePointStrings(s));
        throw new IllegalArgumentException("'" + typeName(v) + "' object is not iterable");
    }

    static List<String> codePointStrings(String s) {
        List<String> out = new ArrayList<>();
        s.codePoints().forEach(c -> out.add(new String(Character.toChars(c))));
        return out;
    }

    /** obj[index] for lists and strings (negative from the end); null result means out of range. */
    static Object index(Object obj, long i, boolean[] found) {
        if (obj instanceof List<?> l) {
            long k = i < 0 ? i + l.size() : i;
            if (k >= 0 && k < l.size()) { found[0] = true; return l.get((int) k); }
        } else if (obj instanceof String s) {
            int n = s.codePointCount(0, s.length());
            long k = i < 0 ? i + n : i;
            if (k >= 0 && k < n) {
                found[0] = true;
                int at = s.offsetByCodePoints(0, (int) k);
                return new String(Character.toChars(s.codePointAt(at)));
            }
        }
        return null;
    }

    /** obj[start:stop:step] with Python's clamping and negative steps. */
    static Object slice(Object obj, Object start, Object stop, Object step) {
        long st = step == null ? 1 : toLong(step);
        if (st == 0) throw new IllegalArgumentException("slice step cannot be zero");
        List<?> items;
        boolean isString = obj instanceof String;
        if (isString) items = codePointStrings((String) obj);
        else if (obj instanceof List<?> l) items = l;
        else throw new IllegalArgumentException("'" + typeName(obj) + "' object is not subscriptable");
        long n = items.size();
        long lo, hi;
        if (st > 0) {
            lo = start == null ? 0 : clamp(toLong(start), n, 0, n);
            hi = stop == null ? n : clamp(toLong(stop), n, 0, n);
        } else {
            lo = start == null ? n - 1 : clamp(toLong(start), n, -1, n - 1);
            hi = stop == null ? -1 : clamp(toLong(stop), n, -1, n - 1);
        }
        List<Object> out = new ArrayList<>();
        if (st > 0) for (long i = lo; i < hi; i += st) out.add(items.get((int) i));
        else for (long i = lo; i > hi; i += st) out.add(items.get((int) i));
        if (isString) return String.join("", out.stream().map(o -> (String) o).toList());
        return obj instanceof PyTuple ? new PyTuple(out) : out;
    }

    private static long clamp(long i, long n, long min, long max) {
        if (i < 0) i += n;
        return Math.max(min, Math.min(max, i));
    }

    /** Thrown when an undefined value is used beyond printing, testing or iterating it. */
    static final class UndefinedException extends RuntimeException {
        UndefinedException(String m) { super(m); }
    }
}
