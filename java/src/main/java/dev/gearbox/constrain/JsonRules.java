package dev.gearbox.constrain;

import static dev.gearbox.constrain.Expr.alt;
import static dev.gearbox.constrain.Expr.chars;
import static dev.gearbox.constrain.Expr.lit;
import static dev.gearbox.constrain.Expr.opt;
import static dev.gearbox.constrain.Expr.ref;
import static dev.gearbox.constrain.Expr.repeat;
import static dev.gearbox.constrain.Expr.seq;
import static dev.gearbox.constrain.Expr.star;

/**
 * The JSON building blocks every JSON grammar here uses (RFC 8259), with two deliberate limits:
 * <ul>
 *   <li><b>Whitespace is bounded</b>: {@link #WS} is nothing, one space, or a newline followed by at
 *       most 20 spaces/tabs, and it appears only between structural tokens (after {@code { [ , :}
 *       and before {@code , } ] :}), never before or after the top-level value. An unbounded
 *       whitespace loop lets a model emit blanks forever; llama.cpp bounds it the same way.</li>
 *   <li><b>Numbers are bounded</b>: at most 16 integer digits, 16 fraction digits and 2 exponent
 *       digits, no leading zeros, so a number cannot grow without end and always fits a double
 *       (integers a long).</li>
 * </ul>
 * Strings take every JSON escape and any Unicode scalar value as UTF-8; a {@code \\u} escape of a
 * surrogate is not allowed, so one {@link #CHAR} is always exactly one code point (which is what
 * makes minLength/maxLength exact).
 */
final class JsonRules {
    static final String WS = "ws";
    static final String CHAR = "char";
    static final String STRING = "string";
    static final String INTEGER = "integer";
    static final String NUMBER = "number";
    static final String BOOLEAN = "boolean";
    static final String NULL = "null";
    static final String VALUE = "value";
    static final String OBJECT = "object";
    static final String ARRAY = "array";

    static final int MAX_WS_INDENT = 20;

    private JsonRules() {}

    /** Defines ws, char, string, integer, number, boolean and null (the primitives). */
    static void definePrimitives(GrammarBuilder b) {
        if (b.has(WS)) return;
        b.rule(WS, opt(alt(lit(" "), seq(lit("\n"), repeat(chars(false, ' ', ' ', '\t', '\t'), 0, MAX_WS_INDENT)))));
        Expr hex = chars(false, '0', '9', 'a', 'f', 'A', 'F');
        // \\uXXXX outside D800-DFFF: first digit not d/D, or d/D followed by 0-7.
        Expr unicodeEscape = seq(lit("u"), alt(
                seq(chars(false, '0', '9', 'a', 'c', 'A', 'C', 'e', 'f', 'E', 'F'), hex, hex, hex),
                seq(chars(false, 'd', 'd', 'D', 'D'), chars(false, '0', '7'), hex, hex)));
        b.rule(CHAR, alt(
                chars(true, '"', '"', '\\', '\\', 0, 0x1F),
                seq(lit("\\"), alt(chars(false, '"', '"', '\\', '\\', '/', '/', 'b', 'b', 'f', 'f', 'n', 'n', 'r', 'r', 't', 't'),
                        unicodeEscape))));
        b.rule(STRING, seq(lit("\""), star(ref(CHAR)), lit("\"")));
        Expr digit = chars(false, '0', '9');
        Expr intPart = seq(opt(lit("-")), alt(lit("0"), seq(chars(false, '1', '9'), repeat(digit, 0, 15))));
        b.rule(INTEGER, intPart);
        b.rule(NUMBER, seq(intPart,
                opt(seq(lit("."), repeat(digit, 1, 16))),
                opt(seq(chars(false, 'e', 'e', 'E', 'E'), opt(chars(false, '+', '+', '-', '-')), repeat(digit, 1, 2)))));
        b.rule(BOOLEAN, alt(lit("true"), lit("false")));
        b.rule(NULL, lit("null"));
    }

    /** Also defines value, object and array: any JSON value. */
    static void defineAnyValue(GrammarBuilder b) {
        definePrimitives(b);
        if (b.has(VALUE)) return;
        b.rule(VALUE, alt(ref(OBJECT), ref(ARRAY), ref(STRING), ref(NUMBER), ref(BOOLEAN), ref(NULL)));
        Expr member = seq(ref(STRING), ref(WS), lit(":"), ref(WS), ref(VALUE), ref(WS));
        b.rule(OBJECT, seq(lit("{"), ref(WS), opt(seq(member, star(seq(lit(","), ref(WS), member)))), lit("}")));
        Expr element = seq(ref(VALUE), ref(WS));
        b.rule(ARRAY, seq(lit("["), ref(WS), opt(seq(element, star(seq(lit(","), ref(WS), element)))), lit("]")));
    }

    /** {@code open ws (item (, ws item){min-1,max-1})? close}, with each item followed by ws; max < 0 = unbounded. */
    static Expr list(String open, Expr item, String close, int min, int max) {
        Expr element = seq(item, ref(WS));
        Expr more = seq(lit(","), ref(WS), element);
        Expr body;
        if (max == 0) {
            body = Expr.empty();
        } else {
            Expr nonEmpty = seq(element, repeat(more, Math.max(0, min - 1), max < 0 ? -1 : max - 1));
            body = min >= 1 ? nonEmpty : opt(nonEmpty);
        }
        return seq(lit(open), ref(WS), body, lit(close));
    }
}
