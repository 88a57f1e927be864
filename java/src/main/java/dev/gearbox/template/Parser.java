package dev.gearbox.template;

import dev.gearbox.template.Node.*;
import dev.gearbox.template.Token.Kind;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Builds the syntax tree from {@link Lexer} tokens with jinja2's grammar and operator precedence
 * (loosest first): conditional {@code x if c else y}, {@code or}, {@code and}, {@code not},
 * comparisons and {@code in}, {@code + -}, {@code ~}, {@code * / // %}, {@code **}, unary minus,
 * then postfix {@code . [] ()} and the filter/test chain ({@code |f}, {@code is t}).
 */
final class Parser {
    private static final Set<String> COMPARE = Set.of("==", "!=", "<", ">", "<=", ">=");
    private static final Set<String> ENDINGS = Set.of("elif", "else", "endif", "endfor", "endset", "endmacro", "endcall", "endfilter",
            "endgeneration", "endraw");

    private final List<Token> toks;
    private int i;
    /** For-loop bodies being parsed (macro and call bodies start again at 0): break/continue need one. */
    private int loopDepth;

    private Parser(List<Token> toks) { this.toks = toks; }

    static List<Stmt> parse(String source) {
        Parser p = new Parser(Lexer.tokenize(source));
        List<Stmt> body = p.body(Set.of());
        Token t = p.peek();
        if (t.kind() != Kind.EOF) throw p.error(t, "unexpected '" + t.text() + "'");
        return body;
    }

    // ---- statements ----

    /** Statements up to (not including) a block tag named in {@code ends}, or the end of the template. */
    private List<Stmt> body(Set<String> ends) {
        List<Stmt> out = new ArrayList<>();
        while (true) {
            Token t = peek();
            switch (t.kind()) {
                case EOF -> {
                    if (!ends.isEmpty()) throw error(t, "unexpected end of template; expected one of " + ends);
                    return out;
                }
                case TEXT -> {
                    next();
                    out.add(new Text((String) t.value(), t.line(), t.col()));
                }
                case VAR_BEGIN -> {
                    next();
                    Expr e = tupleOrExpr();
                    expect(Kind.VAR_END, "}}");
                    out.add(new Output(e, t.line(), t.col()));
                }
                case BLOCK_BEGIN -> {
                    Token kw = toks.get(i + 1);
                    if (kw.kind() != Kind.NAME) throw error(kw, "expected a statement name after '{%'");
                    if (ends.contains(kw.text())) return out;
                    if (ENDINGS.contains(kw.text())) {
                        throw error(kw, "unexpected '{% " + kw.text() + " %}'" + (ends.isEmpty() ? " (nothing to close)" : "; expected one of " + ends));
                    }
                    next();
                    next();
                    out.add(statement(kw));
                }
                default -> throw error(t, "unexpected " + t);
            }
        }
    }

    private Stmt statement(Token kw) {
        int l = kw.line(), c = kw.col();
        switch (kw.text()) {
            case "if" -> {
                List<Expr> conds = new ArrayList<>();
                List<List<Stmt>> bodies = new ArrayList<>();
                conds.add(tupleOrExpr());
                endTag();
                bodies.add(body(Set.of("elif", "else", "endif")));
                List<Stmt> elseBody = null;
                while (true) {
                    String tag = endingTag();
                    if (tag.equals("elif")) {
                        conds.add(tupleOrExpr());
                        endTag();
                        bodies.add(body(Set.of("elif", "else", "endif")));
                    } else if (tag.equals("else")) {
                        endTag();
                        elseBody = body(Set.of("endif"));
                    } else {
                        endTag();
                        return new If(conds, bodies, elseBody, l, c);
                    }
                }
            }
            case "for" -> {
                Expr target = assignTarget();
                expectName("in");
                Expr iter = orExpr();
                if (peek().isOp(",")) {
                    List<Expr> items = new ArrayList<>(List.of(iter));
                    while (peek().isOp(",")) {
                        next();
                        items.add(orExpr());
                    }
                    iter = new TupleExpr(items, iter.line(), iter.col());
                }
                Expr filter = null;
                if (peek().isName("if")) {
                    next();
                    filter = expr(true);
                }
                if (peek().isName("recursive")) throw error(peek(), "recursive for loops are not supported");
                endTag();
                loopDepth++;
                List<Stmt> body;
                try {
                    body = body(Set.of("else", "endfor"));
                } finally {
                    loopDepth--;
                }
                List<Stmt> elseBody = null;
                if (endingTag().equals("else")) {
                    endTag();
                    elseBody = body(Set.of("endfor"));
                    endingTag();
                }
                endTag();
                return new For(target, iter, filter, body, elseBody, l, c);
            }
            case "set" -> {
                Expr target = assignTarget();
                if (peek().isOp("=")) {
                    next();
                    Expr value = tupleOrExpr();
                    endTag();
                    return new Node.Set(target, value, l, c);
                }
                List<FilterCall> filters = new ArrayList<>();
                while (peek().isOp("|")) {
                    next();
                    filters.add(filterCall());
                }
                endTag();
                List<Stmt> body = body(Set.of("endset"));
                endingTag();
                endTag();
                return new SetBlock(target, filters, body, l, c);
            }
            case "macro" -> {
                String name = expectKind(Kind.NAME, "a macro name").text();
                List<String> params = new ArrayList<>();
                List<Expr> defaults = new ArrayList<>();
                paramList(params, defaults);
                endTag();
                List<Stmt> body = outsideLoops(() -> body(Set.of("endmacro")));
                endingTag();
                endTag();
                return new MacroDef(name, params, defaults, body, l, c);
            }
            case "call" -> {
                List<String> params = new ArrayList<>();
                List<Expr> defaults = new ArrayList<>();
                if (peek().isOp("(")) paramList(params, defaults);
                Expr e = expr(true);
                if (!(e instanceof Call call)) throw error(kw, "{% call %} needs a macro call");
                endTag();
                List<Stmt> body = outsideLoops(() -> body(Set.of("endcall")));
                endingTag();
                endTag();
                return new CallBlock(call, params, defaults, body, l, c);
            }
            case "filter" -> {
                List<FilterCall> filters = new ArrayList<>();
                filters.add(filterCall());
                while (peek().isOp("|")) {
                    next();
                    filters.add(filterCall());
                }
                endTag();
                List<Stmt> body = body(Set.of("endfilter"));
                endingTag();
                endTag();
                return new FilterBlock(filters, body, l, c);
            }
            case "generation" -> {
                endTag();
                List<Stmt> body = body(Set.of("endgeneration"));
                endingTag();
                endTag();
                return new Block(body, l, c);
            }
            case "break", "continue" -> {
                if (loopDepth == 0) throw error(kw, "'" + kw.text() + "' outside a for loop");
                endTag();
                return kw.text().equals("break") ? new Break(l, c) : new Continue(l, c);
            }
            default -> throw error(kw, "unknown or unsupported statement '" + kw.text() + "'"
                    + (Set.of("include", "import", "extends", "from", "block").contains(kw.text()) ? " (templates here are self-contained)" : ""));
        }
    }

    private List<Stmt> outsideLoops(java.util.function.Supplier<List<Stmt>> parse) {
        int saved = loopDepth;
        loopDepth = 0;
        try {
            return parse.get();
        } finally {
            loopDepth = saved;
        }
    }

    private void paramList(List<String> params, List<Expr> defaults) {
        expectOp("(");
        boolean sawDefault = false;
        while (!peek().isOp(")")) {
            if (!params.isEmpty()) expectOp(",");
            if (peek().isOp(")")) break;
            params.add(expectKind(Kind.NAME, "a parameter name").text());
            if (peek().isOp("=")) {
                next();
                defaults.add(expr(true));
                sawDefault = true;
            } else {
                if (sawDefault) throw error(peek(), "a parameter without default follows one with a default");
                defaults.add(null);
            }
        }
        next();
    }

    /** After a nested body: the name of the block tag that ended it, consuming {@code {% name}. */
    private String endingTag() {
        expect(Kind.BLOCK_BEGIN, "{%");
        return next().text();
    }

    private void endTag() { expect(Kind.BLOCK_END, "%}"); }

    /** A name, {@code ns.attr}, or names separated by commas (optionally in parentheses). */
    private Expr assignTarget() {
        Token t = peek();
        List<Expr> names = new ArrayList<>();
        boolean paren = t.isOp("(");
        if (paren) next();
        do {
            if (!names.isEmpty()) next();
            Token n = expectKind(Kind.NAME, "a variable name");
            Expr e = new Name(n.text(), n.line(), n.col());
            if (peek().isOp(".")) {
                next();
                Token a = expectKind(Kind.NAME, "an attribute name");
                e = new Attr(e, a.text(), a.line(), a.col());
            }
            names.add(e);
        } while (peek().isOp(","));
        if (paren) expectOp(")");
        return names.size() == 1 && !paren ? names.getFirst() : new TupleExpr(names, t.line(), t.col());
    }

    // ---- expressions ----

    /** An expression, or a bare tuple {@code a, b} (as in {@code {{ a, b }}} or {@code set x = 1, 2}). */
    private Expr tupleOrExpr() {
        Expr first = expr(true);
        if (!peek().isOp(",")) return first;
        List<Expr> items = new ArrayList<>(List.of(first));
        while (peek().isOp(",")) {
            next();
            if (endsTuple(peek())) break;
            items.add(expr(true));
        }
        return new TupleExpr(items, first.line(), first.col());
    }

    private static boolean endsTuple(Token t) {
        return t.kind() == Kind.VAR_END || t.kind() == Kind.BLOCK_END || t.isOp(")") || t.isOp("]") || t.isOp("}");
    }

    private Expr expr(boolean withConditional) {
        Expr e = orExpr();
        if (withConditional) {
            while (peek().isName("if")) {
                Token t = next();
                Expr cond = orExpr();
                Expr otherwise = null;
                if (peek().isName("else")) {
                    next();
                    otherwise = expr(true);
                }
                e = new Conditional(cond, e, otherwise, t.line(), t.col());
            }
        }
        return e;
    }

    private Expr orExpr() {
        Expr e = andExpr();
        while (peek().isName("or")) {
            Token t = next();
            e = new Binary("or", e, andExpr(), t.line(), t.col());
        }
        return e;
    }

    private Expr andExpr() {
        Expr e = notExpr();
        while (peek().isName("and")) {
            Token t = next();
            e = new Binary("and", e, notExpr(), t.line(), t.col());
        }
        return e;
    }

    private Expr notExpr() {
        if (peek().isName("not")) {
            Token t = next();
            return new Unary("not", notExpr(), t.line(), t.col());
        }
        return compare();
    }

    private Expr compare() {
        Expr first = math1();
        List<String> ops = new ArrayList<>();
        List<Expr> rest = new ArrayList<>();
        while (true) {
            Token t = peek();
            if (t.kind() == Kind.OP && COMPARE.contains(t.text())) {
                next();
                ops.add(t.text());
            } else if (t.isName("in")) {
                next();
                ops.add("in");
            } else if (t.isName("not") && toks.get(i + 1).isName("in")) {
                next();
                next();
                ops.add("not in");
            } else {
                break;
            }
            rest.add(math1());
        }
        if (ops.isEmpty()) return first;
        if (ops.size() == 1) return new Binary(ops.getFirst(), first, rest.getFirst(), first.line(), first.col());
        return new Compare(first, ops, rest, first.line(), first.col());
    }

    private Expr math1() {
        Expr e = concat();
        while (peek().isOp("+") || peek().isOp("-")) {
            Token t = next();
            e = new Binary(t.text(), e, concat(), t.line(), t.col());
        }
        return e;
    }

    private Expr concat() {
        Expr e = math2();
        while (peek().isOp("~")) {
            Token t = next();
            e = new Binary("~", e, math2(), t.line(), t.col());
        }
        return e;
    }

    private Expr math2() {
        Expr e = pow();
        while (peek().isOp("*") || peek().isOp("/") || peek().isOp("//") || peek().isOp("%")) {
            Token t = next();
            e = new Binary(t.text(), e, pow(), t.line(), t.col());
        }
        return e;
    }

    private Expr pow() {
        Expr e = unary(true);
        while (peek().isOp("**")) {
            Token t = next();
            e = new Binary("**", e, unary(true), t.line(), t.col());
        }
        return e;
    }

    private Expr unary(boolean withFilter) {
        Token t = peek();
        Expr e;
        if (t.isOp("-") || t.isOp("+")) {
            next();
            e = new Unary(t.text(), unary(false), t.line(), t.col());
        } else {
            e = primary();
        }
        e = postfix(e);
        return withFilter ? filterChain(e) : e;
    }

    private Expr primary() {
        Token t = next();
        int l = t.line(), c = t.col();
        switch (t.kind()) {
            case NAME -> {
                return switch (t.text()) {
                    case "true", "True" -> new Literal(Boolean.TRUE, l, c);
                    case "false", "False" -> new Literal(Boolean.FALSE, l, c);
                    case "none", "None" -> new Literal(null, l, c);
                    default -> new Name(t.text(), l, c);
                };
            }
            case STRING -> {
                StringBuilder sb = new StringBuilder((String) t.value());
                while (peek().kind() == Kind.STRING) sb.append((String) next().value()); // adjacent literals join
                return new Literal(sb.toString(), l, c);
            }
            case INT, FLOAT -> {
                return new Literal(t.value(), l, c);
            }
            case OP -> {
                switch (t.text()) {
                    case "(" -> {
                        if (peek().isOp(")")) {
                            next();
                            return new TupleExpr(List.of(), l, c);
                        }
                        Expr first = expr(true);
                        if (peek().isOp(")")) {
                            next();
                            return first;
                        }
                        List<Expr> items = new ArrayList<>(List.of(first));
                        while (peek().isOp(",")) {
                            next();
                            if (peek().isOp(")")) break;
                            items.add(expr(true));
                        }
                        expectOp(")");
                        return new TupleExpr(items, l, c);
                    }
                    case "[" -> {
                        List<Expr> items = new ArrayList<>();
                        while (!peek().isOp("]")) {
                            if (!items.isEmpty()) expectOp(",");
                            if (peek().isOp("]")) break;
                            items.add(expr(true));
                        }
                        next();
                        return new ListExpr(items, l, c);
                    }
                    case "{" -> {
                        List<Expr> keys = new ArrayList<>(), values = new ArrayList<>();
                        while (!peek().isOp("}")) {
                            if (!keys.isEmpty()) expectOp(",");
                            if (peek().isOp("}")) break;
                            keys.add(expr(true));
                            expectOp(":");
                            values.add(expr(true));
                        }
                        next();
                        return new DictExpr(keys, values, l, c);
                    }
                    default -> { }
                }
            }
            default -> { }
        }
        throw error(t, "unexpected " + t + " in an expression");
    }

    private Expr postfix(Expr e) {
        while (true) {
            Token t = peek();
            if (t.isOp(".")) {
                next();
                Token n = next();
                if (n.kind() == Kind.NAME) e = new Attr(e, n.text(), n.line(), n.col());
                else if (n.kind() == Kind.INT) e = new Item(e, new Literal(n.value(), n.line(), n.col()), n.line(), n.col());
                else throw error(n, "expected an attribute name after '.'");
            } else if (t.isOp("[")) {
                next();
                e = subscript(e, t);
            } else if (t.isOp("(")) {
                e = call(e);
            } else {
                return e;
            }
        }
    }

    private Expr subscript(Expr obj, Token open) {
        Expr[] parts = new Expr[3];
        int part = 0;
        boolean isSlice = false;
        while (!peek().isOp("]")) {
            if (peek().isOp(":")) {
                next();
                isSlice = true;
                if (++part > 2) throw error(peek(), "too many ':' in a slice");
                continue;
            }
            if (parts[part] != null) throw error(peek(), "expected ':' or ']' in a subscript");
            parts[part] = isSlice ? expr(true) : tupleOrExpr();
        }
        next();
        if (!isSlice) {
            if (parts[0] == null) throw error(open, "empty subscript []");
            return new Item(obj, parts[0], open.line(), open.col());
        }
        return new Slice(obj, parts[0], parts[1], parts[2], open.line(), open.col());
    }

    private Call call(Expr fn) {
        Token open = expectOp("(");
        List<Expr> args = new ArrayList<>();
        List<String> kwNames = new ArrayList<>();
        List<Expr> kwValues = new ArrayList<>();
        callArgs(args, kwNames, kwValues);
        return new Call(fn, args, kwNames, kwValues, open.line(), open.col());
    }

    /** The arguments after an opening '(' up to and including ')'. */
    private void callArgs(List<Expr> args, List<String> kwNames, List<Expr> kwValues) {
        boolean first = true;
        while (!peek().isOp(")")) {
            if (!first) expectOp(",");
            first = false;
            if (peek().isOp(")")) break;
            if (peek().kind() == Kind.NAME && toks.get(i + 1).isOp("=")) {
                kwNames.add(next().text());
                next();
                kwValues.add(expr(true));
            } else {
                if (!kwNames.isEmpty()) throw error(peek(), "a positional argument follows a keyword argument");
                args.add(expr(true));
            }
        }
        next();
    }

    private Expr filterChain(Expr e) {
        while (true) {
            Token t = peek();
            if (t.isOp("|")) {
                next();
                FilterCall f = filterCall();
                e = new Filter(e, f, f.line(), f.col());
            } else if (t.isName("is")) {
                next();
                boolean negated = false;
                if (peek().isName("not")) {
                    next();
                    negated = true;
                }
                Token name = next();
                if (name.kind() != Kind.NAME && !(name.kind() == Kind.OP && COMPARE.contains(name.text()))) {
                    throw error(name, "expected a test name after 'is'");
                }
                List<Expr> args = new ArrayList<>();
                if (peek().isOp("(")) {
                    next();
                    List<String> kn = new ArrayList<>();
                    callArgs(args, kn, new ArrayList<>());
                    if (!kn.isEmpty()) throw error(name, "tests take no keyword arguments here");
                } else if (startsTestArgument(peek())) {
                    args.add(postfix(primary()));
                }
                e = new Test(e, name.text(), args, negated, name.line(), name.col());
            } else if (t.isOp("(")) {
                e = call(e);
            } else {
                return e;
            }
        }
    }

    /** jinja2 lets one-argument tests drop the parentheses: {@code x is divisibleby 3}, {@code x is sameas none}. */
    private static boolean startsTestArgument(Token t) {
        return switch (t.kind()) {
            case STRING, INT, FLOAT -> true;
            case NAME -> !Set.of("else", "or", "and", "if", "is", "in", "not").contains(t.text());
            case OP -> t.text().equals("[") || t.text().equals("{");
            default -> false;
        };
    }

    private FilterCall filterCall() {
        Token n = expectKind(Kind.NAME, "a filter name");
        StringBuilder name = new StringBuilder(n.text());
        while (peek().isOp(".")) { // dotted filter names
            next();
            name.append('.').append(expectKind(Kind.NAME, "a filter name").text());
        }
        List<Expr> args = new ArrayList<>();
        List<String> kwNames = new ArrayList<>();
        List<Expr> kwValues = new ArrayList<>();
        if (peek().isOp("(")) {
            next();
            callArgs(args, kwNames, kwValues);
        }
        return new FilterCall(name.toString(), args, kwNames, kwValues, n.line(), n.col());
    }

    // ---- token helpers ----

    private Token peek() { return toks.get(i); }

    private Token next() {
        Token t = toks.get(i);
        if (t.kind() != Kind.EOF) i++;
        return t;
    }

    private Token expect(Kind k, String what) {
        Token t = next();
        if (t.kind() != k) throw error(t, "expected '" + what + "' but found " + t);
        return t;
    }

    private Token expectKind(Kind k, String what) {
        Token t = next();
        if (t.kind() != k) throw error(t, "expected " + what + " but found " + t);
        return t;
    }

    private Token expectOp(String op) {
        Token t = next();
        if (!t.isOp(op)) throw error(t, "expected '" + op + "' but found " + t);
        return t;
    }

    private void expectName(String name) {
        Token t = next();
        if (!t.isName(name)) throw error(t, "expected '" + name + "' but found " + t);
    }

    private TemplateException error(Token t, String msg) { return new TemplateException(msg, t.line(), t.col()); }
}
