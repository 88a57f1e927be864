package dev.gearbox.constrain;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The right-hand side of a grammar rule before lowering: what {@link GbnfParser} reads and
 * {@link JsonSchemaCompiler} writes. {@link GrammarBuilder} turns it into the flat byte-level
 * {@link Grammar} the recognizer runs (repetitions become helper rules, character classes become
 * UTF-8 byte ranges).
 */
sealed interface Expr {

    /** An exact byte string (a GBNF {@code "literal"}, UTF-8 encoded). */
    record Literal(byte[] bytes) implements Expr {}

    /**
     * A set of Unicode code points: {@code ranges} holds inclusive [lo, hi] pairs; {@code negated}
     * means every scalar value not in them. Surrogates (U+D800..U+DFFF) never match: they are not
     * valid in UTF-8.
     */
    record CharClass(int[] ranges, boolean negated) implements Expr {}

    /** A reference to the named rule. */
    record Ref(String name) implements Expr {}

    record Seq(List<Expr> items) implements Expr {}

    record Alt(List<Expr> options) implements Expr {}

    /** {@code item} between {@code min} and {@code max} times; {@code max < 0} is unbounded. */
    record Repeat(Expr item, int min, int max) implements Expr {}

    static Expr lit(String s) {
        return new Literal(s.getBytes(StandardCharsets.UTF_8));
    }

    static Expr ref(String name) {
        return new Ref(name);
    }

    static Expr seq(Expr... items) {
        return new Seq(List.of(items));
    }

    static Expr alt(Expr... options) {
        return new Alt(List.of(options));
    }

    static Expr alt(List<Expr> options) {
        return new Alt(List.copyOf(options));
    }

    static Expr opt(Expr e) {
        return new Repeat(e, 0, 1);
    }

    static Expr star(Expr e) {
        return new Repeat(e, 0, -1);
    }

    static Expr repeat(Expr e, int min, int max) {
        return new Repeat(e, min, max);
    }

    /** A class of code points written as lo/hi pairs. */
    static Expr chars(boolean negated, int... ranges) {
        return new CharClass(ranges, negated);
    }

    /** The empty sequence (matches nothing, always succeeds). */
    static Expr empty() {
        return new Seq(List.of());
    }
}
