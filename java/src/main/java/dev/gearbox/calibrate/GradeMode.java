package dev.gearbox.calibrate;

import java.util.Locale;

/** How an answer is compared with a row's reference. */
public enum GradeMode {
    /** The trimmed answer equals the trimmed reference. */
    EXACT,
    /** The last number in the answer equals the reference's number (1,000 = 1000 = 1000.0). */
    NUMERIC,
    /** The answer contains the trimmed reference, ignoring case. */
    CONTAINS;

    public String id() { return name().toLowerCase(Locale.ROOT); }

    public static GradeMode parse(String s) {
        for (GradeMode m : values()) if (m.id().equalsIgnoreCase(s.strip())) return m;
        throw new IllegalArgumentException("unknown grade '" + s + "' (expected exact, numeric or contains)");
    }
}
