package dev.gearbox.calibrate;

import java.math.BigDecimal;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Decides whether an answer is right: against a row's reference, or by agreement with the largest tier. */
public final class Grader {
    // Thousands separators only in groups of three, so "1,2,3" is three numbers and "1,000" is one.
    private static final Pattern NUMBER = Pattern.compile("-?(?:\\d{1,3}(?:,\\d{3})+|\\d+)(?:\\.\\d+)?");

    private Grader() {}

    /** Grades {@code answer} for {@code row}; rows without a reference need {@code largestAnswer}. */
    public static boolean correct(TaskRow row, String answer, String largestAnswer) {
        if (row.hasReference()) return matches(answer, row.reference(), row.grade());
        if (largestAnswer == null) throw new IllegalArgumentException("row " + row.id() + " has no reference and no largest-tier answer to agree with");
        return agrees(answer, largestAnswer);
    }

    public static boolean matches(String answer, String reference, GradeMode mode) {
        return switch (mode) {
            case EXACT -> answer.strip().equals(reference.strip());
            case CONTAINS -> answer.toLowerCase(Locale.ROOT).contains(reference.strip().toLowerCase(Locale.ROOT));
            case NUMERIC -> {
                BigDecimal want = referenceNumber(reference);
                BigDecimal got = lastNumber(answer);
                yield want != null && got != null && want.compareTo(got) == 0;
            }
        };
    }

    /** Two answers agree when they are equal after trimming and collapsing runs of whitespace. */
    public static boolean agrees(String a, String b) {
        return normalize(a).equals(normalize(b));
    }

    private static String normalize(String s) {
        return s.strip().replaceAll("\\s+", " ");
    }

    /** The last number written in {@code text} ("costs $1,200.50 or 3" gives 3), or null. */
    public static BigDecimal lastNumber(String text) {
        Matcher m = NUMBER.matcher(text);
        String last = null;
        while (m.find()) last = m.group();
        return last == null ? null : new BigDecimal(last.replace(",", ""));
    }

    /** A reference read as a number: "18", "-3", "1,000", "$2.50", "40%"; null when it is not one number. */
    public static BigDecimal referenceNumber(String reference) {
        String s = reference.strip().replace(",", "").replace("$", "").replace("%", "").strip();
        try {
            return new BigDecimal(s);
        } catch (NumberFormatException e) {
            return null;
        }
    }
}
