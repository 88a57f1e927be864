package dev.gearbox.template;

import java.util.List;

/** The syntax tree of a template: statements (what renders) and expressions (what evaluates). */
sealed interface Node {
    int line();

    int col();

    // ---- statements ----
    sealed interface Stmt extends Node {}

    record Text(String text, int line, int col) implements Stmt {}

    record Output(Expr expr, int line, int col) implements Stmt {}

    record If(List<Expr> conditions, List<List<Stmt>> bodies, List<Stmt> elseBody, int line, int col) implements Stmt {}

    record For(Expr target, Expr iterable, Expr filter, List<Stmt> body, List<Stmt> elseBody, int line, int col) implements Stmt {}

    /** {@code {% set target = value %}}; target is a name, a tuple of names or {@code ns.attr}. */
    record Set(Expr target, Expr value, int line, int col) implements Stmt {}

    /** {@code {% set name %}body{% endset %}}, optionally filtered. */
    record SetBlock(Expr target, List<FilterCall> filters, List<Stmt> body, int line, int col) implements Stmt {}

    record MacroDef(String name, List<String> params, List<Expr> defaults, List<Stmt> body, int line, int col) implements Stmt {}

    /** {@code {% call(params) macro(args) %}body{% endcall %}}: the body becomes {@code caller()}. */
    record CallBlock(Call call, List<String> params, List<Expr> defaults, List<Stmt> body, int line, int col) implements Stmt {}

    record FilterBlock(List<FilterCall> filters, List<Stmt> body, int line, int col) implements Stmt {}

    record Break(int line, int col) implements Stmt {}

    record Continue(int line, int col) implements Stmt {}

    /** A block whose body renders as is: transformers' {@code {% generation %}} marker. */
    record Block(List<Stmt> body, int line, int col) implements Stmt {}

    // ---- expressions ----
    sealed interface Expr extends Node {}

    record Literal(Object value, int line, int col) implements Expr {}

    record Name(String name, int line, int col) implements Expr {}

    record ListExpr(List<Expr> items, int line, int col) implements Expr {}

    record TupleExpr(List<Expr> items, int line, int col) implements Expr {}

    record DictExpr(List<Expr> keys, List<Expr> values, int line, int col) implements Expr {}

    /** {@code obj.name}: attribute first, then item, as jinja2's getattr. */
    record Attr(Expr obj, String name, int line, int col) implements Expr {}

    /** {@code obj[key]}: item first, then attribute, as jinja2's getitem. */
    record Item(Expr obj, Expr key, int line, int col) implements Expr {}

    record Slice(Expr obj, Expr start, Expr stop, Expr step, int line, int col) implements Expr {}

    record Call(Expr fn, List<Expr> args, List<String> kwNames, List<Expr> kwValues, int line, int col) implements Expr {}

    record Unary(String op, Expr operand, int line, int col) implements Expr {}

    /** Arithmetic, {@code ~}, comparisons, {@code in}, {@code not in}, {@code and}, {@code or}. */
    record Binary(String op, Expr left, Expr right, int line, int col) implements Expr {}

    /** A comparison chain {@code a < b <= c}: Python's {@code a < b and b <= c}, each operand evaluated once. */
    record Compare(Expr first, List<String> ops, List<Expr> rest, int line, int col) implements Expr {}

    record Conditional(Expr condition, Expr then, Expr otherwise, int line, int col) implements Expr {}

    record FilterCall(String name, List<Expr> args, List<String> kwNames, List<Expr> kwValues, int line, int col) {}

    record Filter(Expr value, FilterCall filter, int line, int col) implements Expr {}

    record Test(Expr value, String name, List<Expr> args, boolean negated, int line, int col) implements Expr {}
}
