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
 */
public record Outcomes(boolean[][] correct, double[][] cost, boolean[][] routedCorrect, double[][] routedCost,
                       double[] gatekeeperCost, double[][] probability) {

    /** Outcomes of a ladder without escalation: routing to a tier gives its answer alone. */
    public Outcomes(boolean[][] correct, double[][] cost, double[] gatekeeperCost, double[][] probability) {
        this(correct, cost, correct, cost, gatekeeperCost, probability);
    }

    public Outcomes {
        int n = correct.length;
        if (cost.length != n || routedCorrect.length != n || routedCost.length != n || gatekeeperCost.length != n || probability.length != n) {
            throw new IllegalArgumentException("outcome tables disagree on the number of prompts");
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

    /** The rows {@code idx} of this table. */
    public Outcomes subset(int[] idx) {
        return new Outcomes(rows(correct, idx), rows(cost, idx), rows(routedCorrect, idx), rows(routedCost, idx),
                rows(gatekeeperCost, idx), rows(probability, idx));
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

    /** The router's decision for prompt {@code i}: the smallest tier whose probability clears its threshold, else the largest. */
    public int decide(int i, double[] thresholds) {
        int last = tiers() - 1;
        for (int k = 0; k < last; k++) if (probability[i][k] >= thresholds[k]) return k;
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

    /** Quality and compute share (gatekeeper and escalations included) of the router with these per-tier thresholds. */
    public CurvePoint routed(double[] thresholds) {
        double q = 0, c = 0;
        for (int i = 0; i < prompts(); i++) {
            int d = decide(i, thresholds);
            if (routedCorrect[i][d]) q++;
            c += routedCost[i][d] + gatekeeperCost[i];
        }
        return new CurvePoint(c / largestCost(), q / prompts());
    }

    /** Per tier, the share of prompts the router sends there. */
    public double[] shares(double[] thresholds) {
        double[] s = new double[tiers()];
        for (int i = 0; i < prompts(); i++) s[decide(i, thresholds)] += 1.0 / prompts();
        return s;
    }
}
