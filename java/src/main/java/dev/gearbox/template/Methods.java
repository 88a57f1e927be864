package dev.gearbox.template;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The Python methods templates call on strings, lists and dicts ({@code content.startswith(...)},
 * {@code message.get('x')}, {@code tools.items()}...), bound to their receiver. Mutating list and dict
 * methods are refused, as Hugging Face's ImmutableSandboxedEnvironment refuses them.
 */
final class Methods {
    private static final Set<String> MUTATING = Set.of("append", "extend", "insert", "pop", "remove", "clear", "sort", "reverse",
            "update", "setdefault", "popitem", "add", "discard");

    private Methods() {}

    /** The bound method {@code obj.name}, or null when the type has no such method. */
    static PyCallable bind(Object obj, String name) {
        if (obj instanceof String s) return stringMethod(s, name);
        if (obj instanceof Map<?, ?> m) {
            if (MUTATING.contains(name)) return unsafe(obj, name);
            return dictMethod(m, name);
        }
        if (obj instanceof List<?> l) {
            if (MUTATING.contains(name)) return unsafe(obj, name);
            return listMethod(l, name);
        }
        return null;
    }

    private static PyCallable unsafe(Object obj, String name) {
        return (a, k) -> {
            throw new IllegalArgumentException("access to attribute '" + name + "' of '" + Py.typeName(obj)
                    + "' object is unsafe (templates may not modify their inputs)");
        };
    }

    private static PyCallable dictMethod(Map<?, ?> m, String name) {
        return switch (name) {
            case "items" -> (a, k) -> {
                List<Object> out = new ArrayList<>();
                m.forEach((x, y) -> out.add(new PyTuple(java.util.Arrays.asList(x, y))));
                return out;
            };
            case "keys" -> (a, k) -> new ArrayList<>(m.keySet());
            case "values" -> (a, k) -> new ArrayList<>(m.values());
            case "get" -> (a, k) -> {
                Args args = new Args("dict.get", a, k);
                Object key = args.required(0, "key");
                return m.containsKey(key) ? m.get(key) : args.get(1, "default", null);
            };
            case "copy" -> (a, k) -> new java.util.LinkedHashMap<>(m);
            default -> null;
        };
    }

    private static PyCallable listMethod(List<?> l, String name) {
        return switch (name) {
            case "index" -> (a, k) -> {
                Object x = new Args("list.index", a, k).required(0, "value");
                for (int i = 0; i < l.size(); i++) if (Py.eq(l.get(i), x)) return (long) i;
                throw new IllegalArgumentException(Py.repr(x) + " is not in list");
            };
            case "count" -> (a, k) -> {
                Object x = new Args("list.count", a, k).required(0, "value");
                return l.stream().filter(y -> Py.eq(y, x)).count();
            };
            case "copy" -> (a, k) -> new ArrayList<>(l);
            default -> null;
        };
    }

    private static PyCallable stringMethod(String s, String name) {
        return switch (name) {
            case "startswith", "endswith" -> (a, k) -> {
                Object p = new Args("str." + name, a, k).required(0, "prefix");
                List<Object> options = p instanceof List<?> l ? new ArrayList<>(l) : List.of(p);
                for (Object o : options) {
                    if (!(o instanceof String t)) throw new IllegalArgumentException(name + " first arg must be str or a tuple of str, not " + Py.typeName(o));
                    if (name.equals("startswith") ? s.startsWith(t) : s.endsWith(t)) return true;
                }
                return false;
            };
            case "strip", "lstrip", "rstrip" -> (a, k) -> {
                String chars = new Args("str." + name, a, k).string(0, "chars", null);
                return PyStrings.strip(s, chars, !name.equals("rstrip"), !name.equals("lstrip"));
            };
            case "split", "rsplit" -> (a, k) -> {
                Args args = new Args("str." + name, a, k);
                String sep = args.string(0, "sep", null);
                long max = args.integer(1, "maxsplit", -1);
                return name.equals("split") ? PyStrings.split(s, sep, max) : PyStrings.rsplit(s, sep, max);
            };
            case "splitlines" -> (a, k) -> {
                boolean keep = new Args("str.splitlines", a, k).bool(0, "keepends", false);
                List<Object> out = new ArrayList<>();
                int start = 0;
                for (int i = 0; i < s.length(); i++) {
                    char c = s.charAt(i);
                    if (c == '\n' || c == '\r' || c == '\u000b' || c == '\f' || c == '\u001c' || c == '\u001d' || c == '\u001e'
                            || c == '\u0085' || c == '\u2028' || c == '\u2029') {
                        int end = i;
                        if (c == '\r' && i + 1 < s.length() && s.charAt(i + 1) == '\n') i++;
                        out.add(s.substring(start, keep ? i + 1 : end));
                        start = i + 1;
                    }
                }
                if (start < s.length()) out.add(s.substring(start));
                return out;
            };
            case "replace" -> (a, k) -> {
                Args args = new Args("str.replace", a, k);
                return replace(s, Py.str(args.required(0, "old")), Py.str(args.required(1, "new")), args.integer(2, "count", -1));
            };
            case "upper" -> (a, k) -> s.toUpperCase(Locale.ROOT);
            case "lower", "casefold" -> (a, k) -> s.toLowerCase(Locale.ROOT);
            case "title" -> (a, k) -> PyStrings.title(s);
            case "capitalize" -> (a, k) -> PyStrings.capitalize(s);
            case "swapcase" -> (a, k) -> {
                StringBuilder sb = new StringBuilder();
                s.codePoints().forEach(c -> sb.appendCodePoint(Character.isUpperCase(c) ? Character.toLowerCase(c)
                        : Character.isLowerCase(c) ? Character.toUpperCase(c) : c));
                return sb.toString();
            };
            case "find", "rfind", "index", "rindex" -> (a, k) -> {
                String sub = Py.str(new Args("str." + name, a, k).required(0, "sub"));
                int at = name.startsWith("r") ? s.lastIndexOf(sub) : s.indexOf(sub);
                if (at < 0 && name.contains("index")) throw new IllegalArgumentException("substring not found");
                return PyStrings.cpIndex(s, at);
            };
            case "count" -> (a, k) -> PyStrings.count(s, Py.str(new Args("str.count", a, k).required(0, "sub")));
            case "join" -> (a, k) -> {
                List<Object> items = Py.iterate(new Args("str.join", a, k).required(0, "iterable"));
                StringBuilder sb = new StringBuilder();
                for (int i = 0; i < items.size(); i++) {
                    if (!(items.get(i) instanceof String t)) throw new IllegalArgumentException("sequence item " + i + ": expected str instance, " + Py.typeName(items.get(i)) + " found");
                    if (i > 0) sb.append(s);
                    sb.append(t);
                }
                return sb.toString();
            };
            case "isdigit", "isnumeric", "isdecimal" -> (a, k) -> !s.isEmpty() && s.codePoints().allMatch(Character::isDigit);
            case "isalpha" -> (a, k) -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetter);
            case "isalnum" -> (a, k) -> !s.isEmpty() && s.codePoints().allMatch(Character::isLetterOrDigit);
            case "isspace" -> (a, k) -> !s.isEmpty() && s.codePoints().allMatch(PyStrings::isSpace);
            case "isupper" -> (a, k) -> s.codePoints().anyMatch(Character::isUpperCase) && s.codePoints().noneMatch(Character::isLowerCase);
            case "islower" -> (a, k) -> s.codePoints().anyMatch(Character::isLowerCase) && s.codePoints().noneMatch(Character::isUpperCase);
            case "removeprefix" -> (a, k) -> {
                String p = Py.str(new Args("str.removeprefix", a, k).required(0, "prefix"));
                return s.startsWith(p) ? s.substring(p.length()) : s;
            };
            case "removesuffix" -> (a, k) -> {
                String p = Py.str(new Args("str.removesuffix", a, k).required(0, "suffix"));
                return !p.isEmpty() && s.endsWith(p) ? s.substring(0, s.length() - p.length()) : s;
            };
            case "partition", "rpartition" -> (a, k) -> {
                String sep = Py.str(new Args("str." + name, a, k).required(0, "sep"));
                int at = name.equals("partition") ? s.indexOf(sep) : s.lastIndexOf(sep);
                if (at < 0) return name.equals("partition") ? new PyTuple(List.of(s, "", "")) : new PyTuple(List.of("", "", s));
                return new PyTuple(List.of(s.substring(0, at), sep, s.substring(at + sep.length())));
            };
            case "zfill" -> (a, k) -> {
                long w = new Args("str.zfill", a, k).integer(0, "width", 0);
                int n = s.codePointCount(0, s.length());
                if (n >= w) return s;
                boolean signed = !s.isEmpty() && (s.charAt(0) == '-' || s.charAt(0) == '+');
                String pad = "0".repeat((int) (w - n));
                return signed ? s.charAt(0) + pad + s.substring(1) : pad + s;
            };
            case "center", "ljust", "rjust" -> (a, k) -> {
                Args args = new Args("str." + name, a, k);
                long w = args.integer(0, "width", 0);
                String fill = args.string(1, "fillchar", " ");
                int n = s.codePointCount(0, s.length());
                if (n >= w) return s;
                int total = (int) (w - n);
                int left = switch (name) {
                    case "ljust" -> 0;
                    case "rjust" -> total;
                    default -> total / 2 + (total & (int) w & 1); // CPython's centering rule
                };
                return fill.repeat(left) + s + fill.repeat(total - left);
            };
            case "format" -> (a, k) -> format(s, a, k);
            default -> null;
        };
    }

    static String replace(String s, String old, String repl, long count) {
        if (count < 0) {
            if (old.isEmpty()) {
                StringBuilder sb = new StringBuilder(repl);
                s.codePoints().forEach(c -> sb.appendCodePoint(c).append(repl));
                return sb.toString();
            }
            return s.replace(old, repl);
        }
        StringBuilder sb = new StringBuilder();
        int from = 0;
        for (long n = 0; n < count; n++) {
            int at = s.indexOf(old, from);
            if (at < 0) break;
            sb.append(s, from, at).append(repl);
            from = at + old.length();
            if (old.isEmpty()) {
                if (from >= s.length()) break;
                sb.append(s.charAt(from));
                from++;
            }
        }
        return sb.append(s.substring(from)).toString();
    }

    /** str.format with {}, {0} and {name} fields (no format specs beyond none). */
    private static String format(String s, List<Object> args, Map<String, Object> kw) {
        StringBuilder sb = new StringBuilder();
        int auto = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '{' && i + 1 < s.length() && s.charAt(i + 1) == '{') { sb.append('{'); i++; continue; }
            if (c == '}' && i + 1 < s.length() && s.charAt(i + 1) == '}') { sb.append('}'); i++; continue; }
            if (c != '{') { sb.append(c); continue; }
            int end = s.indexOf('}', i);
            if (end < 0) throw new IllegalArgumentException("single '{' encountered in format string");
            String field = s.substring(i + 1, end);
            if (field.contains(":") || field.contains("!")) throw new IllegalArgumentException("format specs are not supported: {" + field + "}");
            Object v;
            if (field.isEmpty()) v = args.get(auto++);
            else if (field.chars().allMatch(Character::isDigit)) v = args.get(Integer.parseInt(field));
            else if (kw.containsKey(field)) v = kw.get(field);
            else throw new IllegalArgumentException("format: no argument '" + field + "'");
            sb.append(Py.str(v));
            i = end;
        }
        return sb.toString();
    }
}
