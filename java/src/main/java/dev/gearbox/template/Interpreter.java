package dev.gearbox.template;

import dev.gearbox.template.Node.*;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Renders a syntax tree: statements append to the output, expressions evaluate with Python semantics
 * ({@link Py}), names resolve through {@link Scope}s and then the globals. Any failure becomes a
 * {@link TemplateException} naming the line and column of the innermost construct that failed.
 */
final class Interpreter {
    private static final int MAX_DEPTH = 200;

    private final Map<String, Object> globals;
    private int depth;

    Interpreter(Map<String, Object> globals) { this.globals = globals; }

    /** Thrown by {% break %} / {% continue %} to the enclosing for loop. */
    private static final class LoopControl extends RuntimeException {
        final boolean isBreak;

        LoopControl(boolean isBreak) {
            super(null, null, false, false);
            this.isBreak = isBreak;
        }
    }

    private static final LoopControl BREAK = new LoopControl(true), CONTINUE = new LoopControl(false);

    void render(List<Stmt> body, Scope scope, StringBuilder out) {
        if (++depth > MAX_DEPTH) {
            depth = 0;
            throw new IllegalStateException("template recursion is more than " + MAX_DEPTH + " levels deep");
        }
        try {
            for (Stmt s : body) exec(s, scope, out);
        } finally {
            depth--;
        }
    }

    private void exec(Stmt s, Scope scope, StringBuilder out) {
        try {
            switch (s) {
                case Text t -> out.append(t.text());
                case Output o -> out.append(Py.str(eval(o.expr(), scope)));
                case If f -> {
                    for (int k = 0; k < f.conditions().size(); k++) {
                        if (Py.truthy(eval(f.conditions().get(k), scope))) {
                            render(f.bodies().get(k), scope, out);
                            return;
                        }
                    }
                    if (f.elseBody() != null) render(f.elseBody(), scope, out);
                }
                case For f -> forLoop(f, scope, out);
                case Node.Set st -> assign(st.target(), eval(st.value(), scope), scope);
                case SetBlock sb -> {
                    StringBuilder inner = new StringBuilder();
                    render(sb.body(), scope, inner);
                    Object v = inner.toString();
                    for (FilterCall fc : sb.filters()) v = applyFilter(fc, v, scope);
                    assign(sb.target(), v, scope);
                }
                case MacroDef m -> scope.set(m.name(), new Macro(m.name(), m.params(), m.defaults(), m.body(), scope, this));
                case CallBlock cb -> {
                    Macro caller = new Macro("caller", cb.params(), cb.defaults(), cb.body(), scope, this);
                    Call c = cb.call();
                    List<String> names = new ArrayList<>(c.kwNames());
                    names.add("caller");
                    Object result = callValue(eval(c.fn(), scope), evalAll(c.args(), scope), kwargs(names, c.kwValues(), scope, caller));
                    out.append(Py.str(result));
                }
                case FilterBlock fb -> {
                    StringBuilder inner = new StringBuilder();
                    render(fb.body(), scope, inner);
                    Object v = inner.toString();
                    for (FilterCall fc : fb.filters()) v = applyFilter(fc, v, scope);
                    out.append(Py.str(v));
                }
                case Block b -> render(b.body(), scope, out);
                case Break b -> throw BREAK;
                case Continue c -> throw CONTINUE;
            }
        } catch (TemplateException | LoopControl e) {
            throw e;
        } catch (RuntimeException e) {
            throw wrap(e, s);
        }
    }

    private void forLoop(For f, Scope scope, StringBuilder out) {
        Object iterable = eval(f.iterable(), scope);
        List<Object> items = Py.iterate(iterable);
        if (f.filter() != null) {
            List<Object> kept = new ArrayList<>();
            for (Object item : items) {
                Scope s = scope.child();
                assign(f.target(), item, s);
                if (Py.truthy(eval(f.filter(), s))) kept.add(item);
            }
            items = kept;
        }
        LoopContext loop = new LoopContext(items);
        for (int k = 0; k < items.size(); k++) {
            Scope s = scope.child();
            loop.index0 = k;
            s.set("loop", loop);
            assign(f.target(), items.get(k), s);
            try {
                render(f.body(), s, out);
            } catch (LoopControl c) {
                if (c.isBreak) break;
            }
        }
        if (items.isEmpty() && f.elseBody() != null) render(f.elseBody(), scope, out);
    }

    private void assign(Expr target, Object value, Scope scope) {
        switch (target) {
            case Name n -> scope.set(n.name(), value);
            case Attr a -> {
                Object obj = eval(a.obj(), scope);
                if (!(obj instanceof Namespace ns)) {
                    throw new TemplateException("cannot assign attribute '" + a.name() + "' on a " + Py.typeName(obj)
                            + " (only on a namespace())", a.line(), a.col());
                }
                ns.attrs.put(a.name(), value);
            }
            case TupleExpr t -> {
                List<Object> parts = Py.iterate(value);
                if (parts.size() != t.items().size()) {
                    throw new TemplateException("cannot unpack " + parts.size() + " values into " + t.items().size() + " names",
                            t.line(), t.col());
                }
                for (int k = 0; k < parts.size(); k++) assign(t.items().get(k), parts.get(k), scope);
            }
            default -> throw new TemplateException("cannot assign to this expression", target.line(), target.col());
        }
    }

    Object eval(Expr e, Scope scope) {
        try {
            return switch (e) {
                case Literal l -> l.value();
                case Name n -> lookup(n.name(), scope);
                case ListExpr l -> new ArrayList<>(evalAll(l.items(), scope));
                case TupleExpr t -> new PyTuple(evalAll(t.items(), scope));
                case DictExpr d -> {
                    Map<Object, Object> m = new LinkedHashMap<>();
                    for (int k = 0; k < d.keys().size(); k++) m.put(eval(d.keys().get(k), scope), eval(d.values().get(k), scope));
                    yield m;
                }
                case Attr a -> Access.attr(eval(a.obj(), scope), a.name());
                case Item it -> Access.item(eval(it.obj(), scope), eval(it.key(), scope));
                case Slice sl -> {
                    Object obj = eval(sl.obj(), scope);
                    Py.checkDefined(obj);
                    yield Py.slice(obj, evalOpt(sl.start(), scope), evalOpt(sl.stop(), scope), evalOpt(sl.step(), scope));
                }
                case Call c -> callValue(eval(c.fn(), scope), evalAll(c.args(), scope), kwargs(c.kwNames(), c.kwValues(), scope, null));
                case Unary u -> unary(u, scope);
                case Binary b -> binary(b, scope);
                case Compare c -> {
                    Object left = eval(c.first(), scope);
                    for (int k = 0; k < c.ops().size(); k++) {
                        Object right = eval(c.rest().get(k), scope);
                        if (!compareOp(c.ops().get(k), left, right)) yield false;
                        left = right;
                    }
                    yield true;
                }
                case Conditional c -> {
                    if (Py.truthy(eval(c.condition(), scope))) yield eval(c.then(), scope);
                    yield c.otherwise() != null ? eval(c.otherwise(), scope)
                            : new Undefined("the inline if-expression on line " + c.line() + " evaluated to false and no else section was defined");
                }
                case Filter f -> applyFilter(f.filter(), eval(f.value(), scope), scope);
                case Test t -> {
                    boolean r = Tests.test(t.name(), eval(t.value(), scope), evalAll(t.args(), scope));
                    yield t.negated() != r;
                }
            };
        } catch (TemplateException ex) {
            throw ex;
        } catch (RuntimeException ex) {
            throw wrap(ex, e);
        }
    }

    private Object lookup(String name, Scope scope) {
        Object[] v = new Object[1];
        if (scope.lookup(name, v)) return v[0];
        if (globals.containsKey(name)) return globals.get(name);
        return Undefined.variable(name);
    }

    private Object unary(Unary u, Scope scope) {
        Object v = eval(u.operand(), scope);
        return switch (u.op()) {
            case "not" -> !Py.truthy(v);
            case "-" -> {
                Py.checkDefined(v);
                Object n = Py.num(v);
                if (n instanceof Long l) yield Math.negateExact(l);
                if (n instanceof Double d) yield -d;
                throw new IllegalArgumentException("bad operand type for unary -: '" + Py.typeName(v) + "'");
            }
            default -> {
                Py.checkDefined(v);
                if (!Py.isNumber(v)) throw new IllegalArgumentException("bad operand type for unary +: '" + Py.typeName(v) + "'");
                yield Py.num(v);
            }
        };
    }

    private Object binary(Binary b, Scope scope) {
        switch (b.op()) {
            case "and" -> {
                Object l = eval(b.left(), scope);
                return Py.truthy(l) ? eval(b.right(), scope) : l;
            }
            case "or" -> {
                Object l = eval(b.left(), scope);
                return Py.truthy(l) ? l : eval(b.right(), scope);
            }
            default -> { }
        }
        Object l = eval(b.left(), scope), r = eval(b.right(), scope);
        return switch (b.op()) {
            case "~" -> Py.str(l) + Py.str(r);
            case "==", "!=", "<", ">", "<=", ">=", "in", "not in" -> compareOp(b.op(), l, r);
            default -> Py.arith(b.op(), l, r);
        };
    }

    private static boolean compareOp(String op, Object l, Object r) {
        return switch (op) {
            case "==" -> Py.eq(l, r);
            case "!=" -> !Py.eq(l, r);
            case "<" -> Py.compare(l, r) < 0;
            case ">" -> Py.compare(l, r) > 0;
            case "<=" -> Py.compare(l, r) <= 0;
            case ">=" -> Py.compare(l, r) >= 0;
            case "in" -> Py.contains(r, l);
            case "not in" -> !Py.contains(r, l);
            default -> throw new IllegalArgumentException("unknown comparison " + op);
        };
    }

    Object applyFilter(FilterCall fc, Object value, Scope scope) {
        try {
            return Filters.apply(fc.name(), value, evalAll(fc.args(), scope), kwargs(fc.kwNames(), fc.kwValues(), scope, null));
        } catch (TemplateException ex) {
            throw ex;
        } catch (RuntimeException ex) {
            throw new TemplateException("filter '" + fc.name() + "': " + message(ex), fc.line(), fc.col(), ex);
        }
    }

    static Object callValue(Object fn, List<Object> args, Map<String, Object> kwargs) {
        if (fn instanceof PyCallable c) return c.call(args, kwargs);
        if (fn instanceof Undefined u) throw new Py.UndefinedException(u.hint());
        throw new IllegalArgumentException("'" + Py.typeName(fn) + "' object is not callable");
    }

    private List<Object> evalAll(List<Expr> es, Scope scope) {
        List<Object> out = new ArrayList<>(es.size());
        for (Expr x : es) out.add(eval(x, scope));
        return out;
    }

    private Object evalOpt(Expr e, Scope scope) {
        if (e == null) return null;
        Object v = eval(e, scope);
        Py.checkDefined(v);
        return v;
    }

    private Map<String, Object> kwargs(List<String> names, List<Expr> values, Scope scope, Object caller) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (int k = 0; k < values.size(); k++) m.put(names.get(k), eval(values.get(k), scope));
        if (caller != null) m.put("caller", caller);
        return m;
    }

    private static TemplateException wrap(RuntimeException e, Node at) {
        if (e instanceof Globals.Raise r) return new RaisedException(r.getMessage(), at.line(), at.col());
        return new TemplateException(message(e), at.line(), at.col(), e);
    }

    static String message(RuntimeException e) {
        String m = e.getMessage();
        if (e instanceof ArithmeticException && m != null && m.contains("overflow")) return "integer overflow";
        return m != null ? m : e.getClass().getSimpleName();
    }
}
