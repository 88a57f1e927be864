package dev.gearbox.constrain;

import static dev.gearbox.constrain.Expr.alt;
import static dev.gearbox.constrain.Expr.chars;
import static dev.gearbox.constrain.Expr.lit;
import static dev.gearbox.constrain.Expr.repeat;
import static dev.gearbox.constrain.Expr.seq;

import java.util.ArrayList;
import java.util.List;

/**
 * The grammar of the JSON integers in [lo, hi] written without leading zeros (and never as "-0"),
 * for {@code minimum}/{@code maximum} on integers. Ranges of decimal strings are split by length,
 * then by the first digit where the bounds differ (the usual range-to-pattern construction).
 * A missing bound is the longest integer {@link JsonRules} allows (16 digits).
 */
final class IntegerRange {
    static final long LIMIT = 9_999_999_999_999_999L; // 16 digits

    private IntegerRange() {}

    static Expr of(long lo, long hi) {
        if (lo > hi) throw new IllegalArgumentException("empty range");
        List<Expr> options = new ArrayList<>();
        if (lo < 0) {
            long negHi = Math.min(hi, -1);
            options.add(seq(lit("-"), nonNegative(-negHi, -lo))); // -x for x in [-negHi, -lo]
        }
        if (hi >= 0) options.add(nonNegative(Math.max(lo, 0), hi));
        return options.size() == 1 ? options.getFirst() : alt(options);
    }

    // Non-negative integers in [lo, hi], split into runs of one digit count.
    private static Expr nonNegative(long lo, long hi) {
        List<Expr> options = new ArrayList<>();
        long start = lo;
        while (start <= hi) {
            int digits = Long.toString(start).length();
            long top = digits >= 19 ? Long.MAX_VALUE : pow10(digits) - 1;
            long end = Math.min(hi, top);
            options.add(sameLength(Long.toString(start), Long.toString(end)));
            if (end == hi) break;
            start = end + 1;
        }
        return options.size() == 1 ? options.getFirst() : alt(options);
    }

    // Decimal strings of equal length between a and b inclusive.
    private static Expr sameLength(String a, String b) {
        int n = a.length();
        if (n == 1) return chars(false, a.charAt(0), b.charAt(0));
        char a0 = a.charAt(0), b0 = b.charAt(0);
        if (a0 == b0) return seq(lit(String.valueOf(a0)), sameLength(a.substring(1), b.substring(1)));
        List<Expr> options = new ArrayList<>();
        String nines = "9".repeat(n - 1), zeros = "0".repeat(n - 1);
        options.add(seq(lit(String.valueOf(a0)), sameLength(a.substring(1), nines)));
        if (b0 - a0 > 1) options.add(seq(chars(false, a0 + 1, b0 - 1), repeat(chars(false, '0', '9'), n - 1, n - 1)));
        options.add(seq(lit(String.valueOf(b0)), sameLength(zeros, b.substring(1))));
        return alt(options);
    }

    private static long pow10(int k) {
        long p = 1;
        for (int i = 0; i < k; i++) p *= 10;
        return p;
    }
}
