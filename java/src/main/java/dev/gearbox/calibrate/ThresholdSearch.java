package dev.gearbox.calibrate;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Picks the router's per-tier thresholds on a validation table: for a target quality (a share of
 * the largest tier's quality) the cheapest setting that reaches it, or for a budget (a share of the
 * largest tier's compute) the best quality within it.
 *
 * <p>The search first sweeps one threshold shared by every tier (the router curve of the report),
 * then improves tier by tier, and the ensemble's threshold when the ladder has one (coordinate
 * descent over the same grid), until nothing improves. A tier threshold above 1 means "never stop
 * at this tier"; an ensemble threshold of 0 means "never the ensemble", above 1 "the ensemble
 * whenever no tier clears its threshold".
 */
public final class ThresholdSearch {
    /** Thresholds tried: 0, 0.01, ..., 1, and NEVER. */
    static final double[] GRID;
    /** A threshold no probability clears. */
    public static final double NEVER = 1.01;
    private static final int MAX_ROUNDS = 8;

    static {
        GRID = new double[102];
        for (int i = 0; i <= 100; i++) GRID[i] = i / 100.0;
        GRID[101] = NEVER;
    }

    /** One setting and how it does. */
    public record Choice(double[] thresholds, CurvePoint point, boolean metTarget) {}

    /** A point of the shared-threshold sweep. */
    public record SweepPoint(double threshold, CurvePoint point) {}

    private ThresholdSearch() {}

    /** The router curve: every tier's threshold set to t, for t over the grid (cheapest last). */
    public static List<SweepPoint> sweep(Outcomes o) {
        List<SweepPoint> out = new ArrayList<>();
        for (double t : GRID) out.add(new SweepPoint(t, o.routed(shared(o, t))));
        return out;
    }

    /** Threshold t for every tier below the largest; the ensemble (if any) off. */
    static double[] shared(Outcomes o, double t) {
        double[] th = new double[o.thresholdCount()];
        Arrays.fill(th, 0, o.tiers() - 1, t);
        return th;
    }

    /** The cheapest thresholds whose quality reaches {@code share} × the largest tier's quality. */
    public static Choice forTargetQuality(Outcomes o, double share) {
        if (!(share > 0 && share <= 1.5)) throw new IllegalArgumentException("--target-quality must be in (0, 1.5], got " + share);
        double target = share * o.single(o.tiers() - 1).quality() - 1e-12;
        Objective obj = (a, b) -> {
            boolean aOk = a.quality() >= target, bOk = b.quality() >= target;
            if (aOk != bOk) return aOk;
            if (aOk) return a.cost() < b.cost() || (a.cost() == b.cost() && a.quality() > b.quality());
            return a.quality() > b.quality() || (a.quality() == b.quality() && a.cost() < b.cost());
        };
        Choice c = search(o, obj);
        return new Choice(c.thresholds(), c.point(), c.point().quality() >= target);
    }

    /** The best-quality thresholds whose compute (gatekeeper included) stays within {@code share} × the largest tier's. */
    public static Choice forBudget(Outcomes o, double share) {
        if (!(share > 0)) throw new IllegalArgumentException("--budget must be above 0, got " + share);
        Objective obj = (a, b) -> {
            boolean aOk = a.cost() <= share, bOk = b.cost() <= share;
            if (aOk != bOk) return aOk;
            if (aOk) return a.quality() > b.quality() || (a.quality() == b.quality() && a.cost() < b.cost());
            return a.cost() < b.cost();
        };
        Choice c = search(o, obj);
        return new Choice(c.thresholds(), c.point(), c.point().cost() <= share);
    }

    /** Whether a is strictly better than b. */
    private interface Objective {
        boolean better(CurvePoint a, CurvePoint b);
    }

    private static Choice search(Outcomes o, Objective obj) {
        int k = o.thresholdCount();
        double[] best = shared(o, NEVER);
        CurvePoint bestPoint = o.routed(best);
        if (k == 0) return new Choice(best, bestPoint, true);
        // Start from the best shared threshold, paired with every ensemble threshold when there is an
        // ensemble (moving one coordinate at a time cannot find "tiers stricter and the ensemble on").
        double[] ensembleGrid = o.hasEnsemble() ? GRID : new double[] {0};
        for (double t : GRID) {
            for (double te : ensembleGrid) {
                double[] th = shared(o, t);
                if (o.hasEnsemble()) th[k - 1] = te;
                CurvePoint p = o.routed(th);
                if (obj.better(p, bestPoint)) {
                    best = th;
                    bestPoint = p;
                }
            }
        }
        for (int round = 0; round < MAX_ROUNDS; round++) {
            boolean improved = false;
            for (int tier = 0; tier < k; tier++) {
                for (double t : GRID) {
                    if (t == best[tier]) continue;
                    double[] th = best.clone();
                    th[tier] = t;
                    CurvePoint p = o.routed(th);
                    if (obj.better(p, bestPoint)) {
                        best = th;
                        bestPoint = p;
                        improved = true;
                    }
                }
            }
            if (!improved) break;
        }
        return new Choice(best, bestPoint, true);
    }
}
