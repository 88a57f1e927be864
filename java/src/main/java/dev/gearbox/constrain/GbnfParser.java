package dev.gearbox.constrain;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads llama.cpp's GBNF grammar notation (the {@code grammar} field of llama.cpp's server):
 * <pre>
 * root  ::= "{" ws pair ("," ws pair)* "}"   # comments run to the end of the line
 * pair  ::= [a-z]+ ":" ws ( "yes" | "no" )
 * ws    ::= [ \t\n]{0,4}
 * </pre>
 * Rules {@code name ::= alternatives}; literals {@code "..."}; character classes {@code [...]} and
 * {@code [^...]} with ranges; {@code .} (any character); groups; {@code * + ?} and
 * {@code {m} {m,} {m,n}}; escapes {@code \n \r \t \\ \" \[ \] \- \xHH \\uHHHH \UHHHHHHHH}.
 * Literals and classes are Unicode code points (matched as UTF-8). The start rule is {@code root}.
 * Newlines carry no meaning: a rule ends where the next {@code name ::=} begins. Left-recursive
 * grammars are rejected ({@link GrammarException}), as llama.cpp rejects them.
 */
public final class GbnfParser {
    private final String src;
    private int pos;

    private GbnfParser(String src) {
        this.src = src;
    }

    /** The grammar {@code gbnf} describes, starting at its {@code root} rule. */
    public static Grammar parse(String gbnf) {
        return parse(gbnf, "root");
    }

    public static Grammar parse(String gbnf, String root) {
        GbnfParser p = new GbnfParser(gbnf);
        GrammarBuilder b = new GrammarBuilder();
        List<String> seen = new ArrayList<>();
        p.skipSpace();
        while (p.pos < p.src.length()) {
            int at = p.pos;
            String name = p.name();
            if (name.isEmpty()) throw p.error("expected a rule name");
            p.skipSpace();
            if (!p.src.startsWith("::=", p.pos)) throw p.error("expected '::=' after rule name '" + name + "'");
            p.pos += 3;
            if (seen.contains(name)) throw new GrammarException("rule '" + name + "' is defined twice (at offset " + at + ")");
            seen.add(name);
            b.rule(name, p.alternatives());
            p.skipSpace();
        }
        return b.build(root);
    }

    private Expr alternatives() {
        List<Expr> options = new ArrayList<>();
        options.add(sequence());
        while (true) {
            skipSpace();
            if (peek() != '|') break;
            pos++;
            options.add(sequence());
        }
        return options.size() == 1 ? options.getFirst() : Expr.alt(options);
    }

    private Expr sequence() {
        List<Expr> items = new ArrayList<>();
        while (true) {
            skipSpace();
            int c = peek();
            if (c < 0 || c == '|' || c == ')') break;
            if (isNameChar(c) && startsRule()) break; // the next rule begins
            items.add(postfix(primary()));
        }
        return items.size() == 1 ? items.getFirst() : new Expr.Seq(items);
    }

    private Expr primary() {
        int c = peek();
        switch (c) {
            case '"' -> {
                pos++;
                ByteArrayOutputStream out = new ByteArrayOutputStream();
                while (true) {
                    if (pos >= src.length()) throw error("unterminated string literal");
                    if (peek() == '"') {
                        pos++;
                        break;
                    }
                    out.writeBytes(new String(Character.toChars(character())).getBytes(StandardCharsets.UTF_8));
                }
                return new Expr.Literal(out.toByteArray());
            }
            case '[' -> {
                pos++;
                return charClass();
            }
            case '(' -> {
                pos++;
                Expr e = alternatives();
                skipSpace();
                if (peek() != ')') throw error("expected ')'");
                pos++;
                return e;
            }
            case '.' -> {
                pos++;
                return new Expr.CharClass(new int[0], true);
            }
            default -> {
                String name = name();
                if (name.isEmpty()) throw error("unexpected character '" + (char) c + "'");
                return Expr.ref(name);
            }
        }
    }

    private Expr charClass() {
        boolean negated = false;
        if (peek() == '^') {
            negated = true;
            pos++;
        }
        List<Integer> ranges = new ArrayList<>();
        while (true) {
            if (pos >= src.length()) throw error("unterminated character class");
            if (peek() == ']') {
                pos++;
                break;
            }
            int lo = character();
            int hi = lo;
            if (peek() == '-' && pos + 1 < src.length() && src.charAt(pos + 1) != ']') {
                pos++;
                hi = character();
                if (hi < lo) throw error("bad range in character class");
            }
            ranges.add(lo);
            ranges.add(hi);
        }
        return new Expr.CharClass(ranges.stream().mapToInt(Integer::intValue).toArray(), negated);
    }

    // One code point of a literal or class, escapes decoded.
    private int character() {
        int c = src.codePointAt(pos);
        pos += Character.charCount(c);
        if (c != '\\') return c;
        if (pos >= src.length()) throw error("dangling escape");
        char e = src.charAt(pos++);
        return switch (e) {
            case 'n' -> '\n';
            case 'r' -> '\r';
            case 't' -> '\t';
            case '\\', '"', '[', ']', '-', '^', '/' -> e;
            case 'x' -> hex(2);
            case 'u' -> hex(4);
            case 'U' -> hex(8);
            default -> throw error("unknown escape '\\" + e + "'");
        };
    }

    private int hex(int digits) {
        if (pos + digits > src.length()) throw error("truncated hex escape");
        int v;
        try {
            v = Integer.parseInt(src.substring(pos, pos + digits), 16);
        } catch (NumberFormatException ex) {
            throw error("bad hex escape");
        }
        if (v < 0 || v > Utf8Ranges.MAX || (v >= 0xD800 && v <= 0xDFFF)) throw error("escape is not a Unicode scalar value");
        pos += digits;
        return v;
    }

    private Expr postfix(Expr e) {
        while (true) {
            int c = peek();
            if (c == '*') { pos++; e = Expr.star(e); }
            else if (c == '+') { pos++; e = Expr.repeat(e, 1, -1); }
            else if (c == '?') { pos++; e = Expr.opt(e); }
            else if (c == '{') {
                pos++;
                int min = number();
                int max = min;
                skipInline();
                if (peek() == ',') {
                    pos++;
                    skipInline();
                    max = peek() == '}' ? -1 : number();
                }
                skipInline();
                if (peek() != '}') throw error("expected '}' to close a repetition");
                pos++;
                if (max >= 0 && max < min) throw error("repetition {" + min + "," + max + "} has max < min");
                e = Expr.repeat(e, min, max);
            } else {
                return e;
            }
        }
    }

    private int number() {
        skipInline();
        int start = pos;
        while (pos < src.length() && Character.isDigit(src.charAt(pos))) pos++;
        if (start == pos) throw error("expected a number");
        if (pos - start > 6) throw error("repetition count too large");
        return Integer.parseInt(src.substring(start, pos));
    }

    private boolean startsRule() {
        int save = pos;
        name();
        skipSpace();
        boolean rule = src.startsWith("::=", pos);
        pos = save;
        return rule;
    }

    private String name() {
        int start = pos;
        while (pos < src.length() && isNameChar(src.charAt(pos))) pos++;
        return src.substring(start, pos);
    }

    private static boolean isNameChar(int c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    }

    private void skipSpace() {
        while (pos < src.length()) {
            char c = src.charAt(pos);
            if (c == '#') {
                while (pos < src.length() && src.charAt(pos) != '\n') pos++;
            } else if (Character.isWhitespace(c)) {
                pos++;
            } else {
                break;
            }
        }
    }

    private void skipInline() {
        while (pos < src.length() && (src.charAt(pos) == ' ' || src.charAt(pos) == '\t')) pos++;
    }

    private int peek() {
        return pos < src.length() ? src.charAt(pos) : -1;
    }

    private GrammarException error(String message) {
        int line = 1, col = 1;
        for (int i = 0; i < Math.min(pos, src.length()); i++) {
            if (src.charAt(i) == '\n') { line++; col = 1; } else col++;
        }
        return new GrammarException("GBNF " + message + " at line " + line + ", column " + col);
    }
}
