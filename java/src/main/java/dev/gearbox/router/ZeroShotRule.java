package dev.gearbox.router;

/**
 * The router used when a ladder has no trained head (no {@code router.json}): a fixed rule on the
 * gatekeeper's signals, so a ladder works out of the box. A calibrated head replaces it.
 *
 * <p>Difficulty blends two signals, each scaled to [0, 1]:
 * <pre>
 *   uncertainty = entropy_last / ln V                   how unsure the gatekeeper is of the answer's first token
 *                                                       (V = its vocabulary size: 1 = a uniform guess)
 *   length      = min(1, ln(prompt_tokens) / ln 256)    how much there is to read (256 tokens counts as long)
 *   d           = (uncertainty + length) / 2
 * </pre>
 * Prompt surprisal is left out on purpose: tiers trained with the loss on answers only (as the
 * default ladder's are) do not model prompt text, and on the default ladder the prompt's mean
 * surprisal falls as prompts get harder. It stays a feature for the trained head.
 *
 * <p>Non-largest tier i (0 = smallest) of n tiers gets a cut point spaced evenly from
 * {@link #LOW} to {@link #HIGH} ({@code c_i = LOW + (HIGH - LOW) i / (n - 2)}, their midpoint
 * when n = 2) and the pseudo-probability {@code p_i = 1 / (1 + exp((d - c_i) / SCALE))}; the
 * largest tier's is 1. With the thresholds of {@link #THRESHOLD} a prompt goes to the smallest
 * tier with {@code d <= c_i}: the less sure the gatekeeper is and the longer the prompt, the
 * larger the tier. The rule never chooses the ensemble (that needs a calibrated threshold).
 */
public final class ZeroShotRule {
    // Chosen on the default ladder's calibration prompts (forced tiers, no escalation): 96% of the
    // largest tier's accuracy at 78% of its compute; d there runs from 0.21 (level 1) to 0.31 (level 6).
    // A prompt past HIGH goes to the largest tier: unsure means quality first.
    public static final double LOW = 0.21;
    public static final double HIGH = 0.23;
    public static final double SCALE = 0.01;
    public static final double THRESHOLD = 0.5;
    /** Prompt length, in tokens, that counts as fully long. */
    public static final int LONG_PROMPT = 256;

    private ZeroShotRule() {}

    /** The gatekeeper's uncertainty about the answer's first token, in [0, 1]. */
    public static double uncertainty(Signals s) {
        return Math.min(1, Math.max(0, s.entropy() / Math.log(Math.max(2, s.vocabSize()))));
    }

    /** Prompt length on a log scale, in [0, 1]. */
    public static double length(Signals s) {
        return Math.min(1, Math.log(Math.max(1, s.promptTokens())) / Math.log(LONG_PROMPT));
    }

    /** The difficulty d in [0, 1]; a gatekeeper that reads early layers only (no entropy) judges by length alone. */
    public static double difficulty(Signals s) {
        if (Double.isNaN(s.entropy())) return length(s);
        return (uncertainty(s) + length(s)) / 2;
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
