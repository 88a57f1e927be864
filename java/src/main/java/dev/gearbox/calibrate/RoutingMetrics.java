package dev.gearbox.calibrate;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * RouteLLM's measures of a router, generalised from two models to a ladder: the weak model is the
 * smallest tier, the strong one the largest, and the cost axis is compute as a share of
 * always-largest (for two tiers with fixed per-call costs that is an affine map of RouteLLM's
 * "share of calls to the strong model", which is why APGR is normalised over [weak cost, strong cost]).
 *
 * <ul>
 *   <li>PGR (performance gap recovered) = (router quality − weak quality) / (strong quality − weak quality).</li>
 *   <li>The PGR curve is the router's sweep points turned into PGR, anchored by the two single models
 *       (always-weak at its cost with PGR 0, always-strong at its cost with PGR 1), points costlier than
 *       always-strong dropped, points cheaper than always-weak moved to its cost, then made monotone
 *       (a budget is a ceiling: the best PGR at cost ≤ x) and joined linearly (mixing two
 *       threshold settings at random reaches any point between them).</li>
 *   <li>APGR = the mean of that curve over [weak cost, strong cost] (area / width): 0.5 for random
 *       two-model routing, 1 for a perfect router.</li>
 *   <li>CPT(p) = the least cost at which the curve reaches PGR p.</li>
 *   <li>Random routing: send each prompt to tier i with probability q_i; the best expected quality at
 *       an expected cost is the upper concave hull of the single-tier points.</li>
 * </ul>
 */
public final class RoutingMetrics {
    private RoutingMetrics() {}

    /** PGR of {@code quality}; NaN when the strong model is not better than the weak one (no gap to recover). */
    public static double pgr(double quality, double weak, double strong) {
        double gap = strong - weak;
        return gap > 0 ? (quality - weak) / gap : Double.NaN;
    }

    /** No quality gap to recover, or a "weak" model that costs no less than the strong one: the curve means nothing. */
    private static boolean undefined(CurvePoint weak, CurvePoint strong) {
        return Double.isNaN(pgr(0, weak.quality(), strong.quality())) || !(strong.cost() > weak.cost());
    }

    /** The monotone PGR curve as (cost, PGR) points, sorted by cost, from the weak model's cost to the strong one's. */
    public static List<CurvePoint> pgrCurve(List<CurvePoint> router, CurvePoint weak, CurvePoint strong) {
        if (!(strong.cost() > weak.cost())) {
            throw new IllegalArgumentException("the strong model's cost " + strong.cost() + " must exceed the weak model's " + weak.cost());
        }
        List<CurvePoint> pts = new ArrayList<>();
        pts.add(new CurvePoint(weak.cost(), 0));
        pts.add(new CurvePoint(strong.cost(), 1));
        for (CurvePoint p : router) {
            if (p.cost() > strong.cost()) continue;
            pts.add(new CurvePoint(Math.max(p.cost(), weak.cost()), pgr(p.quality(), weak.quality(), strong.quality())));
        }
        pts.sort(Comparator.comparingDouble(CurvePoint::cost).thenComparingDouble(CurvePoint::quality));
        List<CurvePoint> out = new ArrayList<>();
        double best = Double.NEGATIVE_INFINITY;
        for (CurvePoint p : pts) {
            if (Double.isNaN(p.quality())) continue;
            double y = Math.max(best, p.quality());
            if (!out.isEmpty() && out.getLast().cost() == p.cost()) out.removeLast();
            out.add(new CurvePoint(p.cost(), y));
            best = y;
        }
        return out;
    }

    /** APGR: the curve's mean PGR over [weak cost, strong cost]; NaN when there is no quality gap (or no cost gap). */
    public static double apgr(List<CurvePoint> router, CurvePoint weak, CurvePoint strong) {
        if (undefined(weak, strong)) return Double.NaN;
        List<CurvePoint> c = pgrCurve(router, weak, strong);
        double area = 0;
        for (int i = 1; i < c.size(); i++) {
            area += (c.get(i).cost() - c.get(i - 1).cost()) * (c.get(i).quality() + c.get(i - 1).quality()) / 2;
        }
        return area / (strong.cost() - weak.cost());
    }

    /** CPT(target): the least cost at which the PGR curve reaches {@code target} (e.g. 0.5); NaN when there is no quality gap or it never does. */
    public static double cpt(List<CurvePoint> router, CurvePoint weak, CurvePoint strong, double target) {
        if (undefined(weak, strong)) return Double.NaN;
        List<CurvePoint> c = pgrCurve(router, weak, strong);
        if (c.getFirst().quality() >= target) return c.getFirst().cost();
        for (int i = 1; i < c.size(); i++) {
            CurvePoint a = c.get(i - 1), b = c.get(i);
            if (b.quality() >= target) {
                return a.cost() + (b.cost() - a.cost()) * (target - a.quality()) / (b.quality() - a.quality());
            }
        }
        return Double.NaN;
    }

    /**
     * The upper concave hull of the single-tier points: every (expected cost, expected quality) a
     * random mixture of tiers reaches at its best, sorted by cost, ending at the best-quality tier.
     */
    public static List<CurvePoint> randomFrontier(List<CurvePoint> tiers) {
        if (tiers.isEmpty()) throw new IllegalArgumentException("no tiers");
        List<CurvePoint> pts = new ArrayList<>(tiers);
        pts.sort(Comparator.comparingDouble(CurvePoint::cost).thenComparing(Comparator.comparingDouble(CurvePoint::quality).reversed()));
        List<CurvePoint> hull = new ArrayList<>();
        for (CurvePoint p : pts) {
            if (!hull.isEmpty() && hull.getLast().cost() == p.cost()) continue; // same cost, lower quality
            if (!hull.isEmpty() && p.quality() <= hull.getLast().quality()) continue; // costlier and no better: never worth mixing in
            while (hull.size() >= 2 && !turnsRight(hull.get(hull.size() - 2), hull.getLast(), p)) hull.removeLast();
            hull.add(p);
        }
        return hull;
    }

    /** True when b lies strictly above the chord from a to c (the hull stays concave with b in it). */
    private static boolean turnsRight(CurvePoint a, CurvePoint b, CurvePoint c) {
        double cross = (b.cost() - a.cost()) * (c.quality() - a.quality()) - (b.quality() - a.quality()) * (c.cost() - a.cost());
        return cross < 0;
    }

    /**
     * Random routing's best expected quality at expected cost {@code cost}: the frontier
     * interpolated; below the cheapest tier's cost, the cheapest tier's quality (nothing cheaper
     * exists); above the best tier's cost, the best tier's quality.
     */
    public static double randomQuality(List<CurvePoint> tiers, double cost) {
        List<CurvePoint> f = randomFrontier(tiers);
        if (cost <= f.getFirst().cost()) return f.getFirst().quality();
        for (int i = 1; i < f.size(); i++) {
            CurvePoint a = f.get(i - 1), b = f.get(i);
            if (cost <= b.cost()) return a.quality() + (b.quality() - a.quality()) * (cost - a.cost()) / (b.cost() - a.cost());
        }
        return f.getLast().quality();
    }
}
