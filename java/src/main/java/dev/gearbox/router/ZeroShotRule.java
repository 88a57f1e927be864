package dev.gearbox.router;

/**
 * The router used when a ladder has no trained head (no {@code router.json}): a fixed rule on the
 * gatekeeper's signals, so a ladder works out of the box.
 *
 * <p>Difficulty is the gatekeeper's average uncertainty, in units of a uniform guess over its
 * vocabulary (ln V nats), so the cut points mean the same for any vocabulary size:
 * <pre>
 *   d = (surprisal_mean + entropy_last) / (2 ln V)      0 = certain, 1 = uniform guessing
 * </pre>
 * Non-largest tier i (0 = smallest) of n tiers gets a cut point spaced evenly from
 * {@link #LOW} to {@link #HIGH} ({@code c_i = LOW + (HIGH - LOW) i / (n - 2)}, the midpoint when
 * n = 2), and the pseudo-probability {@code p_i = 1 / (1 + exp((d - c_i) / SCALE))}. The largest
 * tier's probability is 1. With the default thresholds of {@link #THRESHOLD} a prompt goes to the
 * smallest tier with {@code d <= c_i}: the more surprised the gatekeeper is by the prompt and the
 * less sure it is of the answer's first token, the larger the tier. The rule never chooses the
 * ensemble (that needs a calibrated threshold).
 */
public final class ZeroShotRule {
    public static final double LOW = 0.20;
    public static final double HIGH = 0.50;
    public static final double SCALE = 0.05;
    public static final double THRESHOLD = 0.5;

    private ZeroShotRule() {}

    /** The difficulty d in [0, about 1]. */
    public static double difficulty(Signals s) {
        double lnV = Math.log(Math.max(2, s.vocabSize()));
        return (s.meanSurprisal() + s.entropy()) / (2 * lnV);
    }

    /** Cut point of non-largest tier {@code i} of {@code tiers}. */
    public static double cutPoint(int i, int tiers) {
        if (tiers <= 2) return (LOW + HIGH) / 2;
        return LOW + (HIGH - LOW) * i / (tiers - 2);
    }

    /** Per-tier pseudo-probabilities, the largest tier's 1. */
    public static double[] probabilities(Signals s, int tiers) {
        double d = difficulty(s);
        double[] p = new double[tiers];
        for (int i = 0; i + 1 < tiers; i++) p[i] = 1 / (1 + Math.exp((d - cutPoint(i, tiers)) / SCALE));
        p[tiers - 1] = 1;
        return p;
    }
}
