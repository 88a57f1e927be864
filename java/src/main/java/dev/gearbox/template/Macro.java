package dev.gearbox.template;

import dev.gearbox.template.Node.Expr;
import dev.gearbox.template.Node.Stmt;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A {@code {% macro %}} (or the body of a {@code {% call %}} block, which the called macro sees as
 * {@code caller}): calling it renders its body in a fresh scope under the one it was defined in, with
 * parameters bound from positional and keyword arguments, defaults evaluated at call time, and any
 * extra arguments in {@code varargs} and {@code kwargs} as jinja2 provides them.
 */
final class Macro implements PyCallable {
    final String name;
    private final List<String> params;
    private final List<Expr> defaults;
    private final List<Stmt> body;
    private final Scope closure;
    private final Interpreter in;

    Macro(String name, List<String> params, List<Expr> defaults, List<Stmt> body, Scope closure, Interpreter in) {
        this.name = name;
        this.params = params;
        this.defaults = defaults;
        this.body = body;
        this.closure = closure;
        this.in = in;
    }

    @Override
    public Object call(List<Object> args, Map<String, Object> kwargs) {
        Scope s = closure.child();
        Map<String, Object> extraKw = new LinkedHashMap<>(kwargs);
        for (int p = 0; p < params.size(); p++) {
            String param = params.get(p);
            if (p < args.size()) {
                if (extraKw.containsKey(param)) throw new IllegalArgumentException("macro '" + name + "' got multiple values for argument '" + param + "'");
                s.set(param, args.get(p));
            } else if (extraKw.containsKey(param)) {
                s.set(param, extraKw.remove(param));
            } else if (defaults.get(p) != null) {
                s.set(param, in.eval(defaults.get(p), s));
            } else {
                s.set(param, new Undefined("parameter '" + param + "' of macro '" + name + "' was not provided"));
            }
        }
        Object caller = extraKw.remove("caller");
        if (caller != null) s.set("caller", caller);
        s.set("varargs", new PyTuple(args.size() > params.size() ? args.subList(params.size(), args.size()) : List.of())); // a tuple, as in jinja2
        s.set("kwargs", extraKw);
        StringBuilder out = new StringBuilder();
        in.render(body, s, out);
        return out.toString();
    }

    @Override
    public String toString() { return "<Macro '" + name + "'>"; }
}
