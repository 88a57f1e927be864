package dev.gearbox.template;

import java.util.List;
import java.util.Map;

/** jinja2's tests ({@code x is defined}, {@code x is divisibleby 3}, ...), with jinja2's Python meaning of each. */
final class Tests {
    private Tests() {}

    static boolean test(String name, Object v, List<Object> args) {
        return switch (name) {
            case "defined" -> !(v instanceof Undefined);
            case "undefined" -> v instanceof Undefined;
            case "none" -> v == null;
            case "string" -> v instanceof String;
            case "number" -> Py.isNumber(v); // bool is a numbers.Number in Python
            case "integer" -> v instanceof Long;
            case "float" -> v instanceof Double;
            case "boolean" -> v instanceof Boolean;
            case "true" -> Boolean.TRUE.equals(v);
            case "false" -> Boolean.FALSE.equals(v);
            case "mapping" -> v instanceof Map;
            // Undefined has __iter__, __len__ and __getitem__, so jinja2 calls it iterable and a sequence.
            case "iterable" -> v instanceof String || v instanceof List || v instanceof Map || v instanceof Undefined;
            case "sequence" -> v instanceof String || v instanceof List || v instanceof Map || v instanceof Undefined;
            case "callable" -> v instanceof PyCallable || v instanceof Undefined; // Undefined has __call__ (which raises)
            case "lower" -> v instanceof String s && s.equals(s.toLowerCase(java.util.Locale.ROOT)) && s.codePoints().anyMatch(Character::isLowerCase);
            case "upper" -> v instanceof String s && s.equals(s.toUpperCase(java.util.Locale.ROOT)) && s.codePoints().anyMatch(Character::isUpperCase);
            case "escaped" -> false;
            case "odd" -> Math.floorMod(Py.toLong(v), 2) == 1;
            case "even" -> Math.floorMod(Py.toLong(v), 2) == 0;
            case "divisibleby" -> {
                long d = Py.toLong(arg(name, args, 0));
                if (d == 0) throw new ArithmeticException("integer division or modulo by zero");
                yield Math.floorMod(Py.toLong(v), d) == 0;
            }
            case "in" -> Py.contains(arg(name, args, 0), v);
            case "eq", "equalto", "==" -> Py.eq(v, arg(name, args, 0));
            case "ne", "!=" -> !Py.eq(v, arg(name, args, 0));
            case "lt", "lessthan", "<" -> Py.compare(v, arg(name, args, 0)) < 0;
            case "le", "<=" -> Py.compare(v, arg(name, args, 0)) <= 0;
            case "gt", "greaterthan", ">" -> Py.compare(v, arg(name, args, 0)) > 0;
            case "ge", ">=" -> Py.compare(v, arg(name, args, 0)) >= 0;
            case "sameas" -> {
                Object o = arg(name, args, 0);
                yield v == o || (v != null && (v instanceof Boolean || v instanceof Undefined) && v.equals(o));
            }
            default -> throw new IllegalArgumentException("no test named '" + name + "'");
        };
    }

    private static Object arg(String test, List<Object> args, int i) {
        if (i >= args.size()) throw new IllegalArgumentException("test '" + test + "' needs an argument");
        return args.get(i);
    }
}
