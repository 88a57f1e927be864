package dev.gearbox.calibrate;

/**
 * What every tier did on every prompt of a set, and what the router thought of each prompt: the
 * table threshold search and metrics run on.
 *
 * @param correct        [prompt][tier] whether the tier's answer alone was graded right
 * @param cost           [prompt][tier] FLOPs the tier alone spent on the prompt (prefill + decode)
 * @param routedCorrect  [prompt][tier] whether the answer was right when the prompt is routed to the tier
 *                       (with the escalation the ladder configures; the same as {@code correct} without)
 * @param routedCost     [prompt][tier] FLOPs of that (every hop)
 * @param gatekeeperCost [prompt] FLOPs of the gatekeeper's pass
 * @param probability    [prompt][tier] the router's probability that the tier is as good as the largest
 * @param ensembleCorrect [prompt] whether the ladder's ensemble answered right, or null when the ladder has none
 * @param ensembleCost    [prompt] FLOPs of the ensemble's answer (all members), or null
 *
 * <p>Thresholds are an array with one entry per tier below the largest, plus, when the ladder has
 * an ensemble, a last entry for it: the ensemble is chosen when no tier clears its threshold and
 * every such probability is below the ensemble's threshold (so 0 means "never"), as
 * {@code Router.choose} does.
 */
public record Outcomes(boolean[][] correct, double[][] cost, boolean[][] routedCorrect, double[][] routedCost,
                       double[] gatekeeperCost, double[][] probability, boolean[] ensembleCorrect, double[] ensembleCost) {

    /** A decision for the ensemble. */
    public static final int ENSEMBLE = -1;

    /** Outcomes of a ladder without escalation or ensemble: routing to a tier gives its answer alone. */
    public Outcomes(boolean[][] correct, double[][] cost, double[] gatekeeperCost, double[][] probability) {
        this(correct, cost, correct, cost, gatekeeperCost, probability, null, null);
    }

    /** Outcomes of a ladder without ensemble. */
    public Outcomes(boolean[][] correct, double[][] cost, boolean[][] routedCorrect, double[][] routedCost,
                    double[] gatekeeperCost, double[][] probability) {
        this(correct, cost, routedCorrect, routedCost, gatekeeperCost, probability, null, null);
    }

    public Outcomes {
        int n = correct.length;
        if (cost.length != n || routedCorrect.length != n || routedCost.length != n || gatekeeperCost.length != n || probability.length != n) {
            throw new IllegalArgumentException("outcome tables disagree on the number of prompts");
        }
        if ((ensembleCorrect == null) != (ensembleCost == null)
                || ensembleCorrect != null && (ensembleCorrect.length != n || ensembleCost.length != n)) {
            throw new IllegalArgumentException("ensemble outcomes must be given for every prompt, or not at all");
        }
        if (n == 0) throw new IllegalArgumentException("no prompts");
        int k = correct[0].length;
        if (k == 0) throw new IllegalArgumentException("no tiers");
        for (int i = 0; i < n; i++) {
            if (correct[i].length != k || cost[i].length != k || routedCorrect[i].length != k || routedCost[i].length != k || probability[i].length != k) {
                throw new IllegalArgumentException("prompt " + i + " has outcomes for a different number of tiers");
            }
        }
    }

    public int prompts() { return correct.length; }

    public int tiers() { return correct[0].length; }

    public boolean hasEnsemble() { return ensembleCorrect != null; }

    /** Length of a thresholds array: the tiers below the largest, and the ensemble when there is one. */
    public int thresholdCount() { return tiers() - 1 + (hasEnsemble() ? 1 : 0); }

    /** The rows {@code idx} of this table. */
    public Outcomes subset(int[] idx) {
        return new Outcomes(rows(correct, idx), rows(cost, idx), rows(routedCorrect, idx), rows(routedCost, idx),
                rows(gatekeeperCost, idx), rows(probability, idx),
                ensembleCorrect == null ? null : rows(ensembleCorrect, idx), ensembleCost == null ? null : rows(ensembleCost, idx));
    }

    private static boolean[] rows(boolean[] a, int[] idx) {
        boolean[] out = new boolean[idx.length];
        for (int i = 0; i < idx.length; i++) out[i] = a[idx[i]];
        return out;
    }

    private static boolean[][] rows(boolean[][] a, int[] idx) {
        boolean[][] out = new boolean[idx.length][];
        for (int i = 0; i < idx.length; i++) out[i] = a[idx[i]];
        return out;
    }

    private static double[][] rows(double[][] a, int[] idx) {
        double[][] out = new double[idx.length][];
        for (int i = 0; i < idx.length; i++) out[i] = a[idx[i]];
        return out;
    }

    private static double[] rows(double[] a, int[] idx) {
        double[] out = new double[idx.length];
        for (int i = 0; i < idx.length; i++) out[i] = a[idx[i]];
        return out;
    }

    /**
     * The router's decision for prompt {@code i}: the smallest tier whose probability clears its
     * threshold; else the ensemble when its threshold is set and above every such probability;
     * else the largest tier ({@link #ENSEMBLE} for the ensemble).
     */
    public int decide(int i, double[] thresholds) {
        int last = tiers() - 1;
        double best = 0;
        for (int k = 0; k < last; k++) {
            if (probability[i][k] >= thresholds[k]) return k;
            best = Math.max(best, probability[i][k]);
        }
        if (hasEnsemble() && thresholds.length > last && best < thresholds[last]) return ENSEMBLE;
        return last;
    }

    /** Always-largest compute on these prompts: the unit of every cost share. */
    public double largestCost() {
        double s = 0;
        for (double[] c : cost) s += c[tiers() - 1];
        return s;
    }

    /** Quality and compute share of one tier answering everything (no gatekeeper). */
    public CurvePoint single(int tier) {
        double q = 0, c = 0;
        for (int i = 0; i < prompts(); i++) {
            if (correct[i][tier]) q++;
            c += cost[i][tier];
        }
        return new CurvePoint(c / largestCost(), q / prompts());
    }

    /** Quality and compute share (gatekeeper, escalations and ensembles included) of the router with these thresholds. */
    public CurvePoint routed(double[] thresholds) {
        double q = 0, c = 0;
        for (int i = 0; i < prompts(); i++) {
            int d = decide(i, thresholds);
            if (d == ENSEMBLE ? ensembleCorrect[i] : routedCorrect[i][d]) q++;
            c += (d == ENSEMBLE ? ensembleCost[i] : routedCost[i][d]) + gatekeeperCost[i];
        }
        return new CurvePoint(c / largestCost(), q / prompts());
    }

    /** Whether prompt {@code i} was answered right under decision {@code d}. */
    public boolean routedRight(int i, int d) {
        return d == ENSEMBLE ? ensembleCorrect[i] : routedCorrect[i][d];
    }

    /** Per tier, then the ensemble when there is one, the share of prompts the router sends there. */
    public double[] shares(double[] thresholds) {
        double[] s = new double[tiers() + (hasEnsemble() ? 1 : 0)];
        for (int i = 0; i < prompts(); i++) {
            int d = decide(i, thresholds);
            s[d == ENSEMBLE ? tiers() : d] += 1.0 / prompts();
        }
        return s;
    }
}
