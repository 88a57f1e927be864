package dev.gearbox.calibrate;

import dev.gearbox.router.RouterHead;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Everything a calibration run measured, for the report and for callers. Metrics are on the
 * held-out split unless named "validation".
 */
public record CalibrationResult(
        Calibrator.Options options, String ladderName, Path routerFile, Path reportMarkdown, Path reportSvg,
        List<String> tierNames, List<Long> parameterCounts, int rows, int trainRows, int validationRows, int heldOutRows,
        List<CurvePoint> singles, List<ThresholdSearch.SweepPoint> sweep,
        Map<String, Double> thresholds, CurvePoint validationPoint, boolean metTarget,
        CurvePoint routed, double[] routedShares, double[] routedAccuracy, CurvePoint ensemble,
        double pgr, double apgr, double cpt50, double cpt80, double randomAtSameCost,
        RouterHead.Training training, Map<String, Breakdown> byTaskLevel, int escalations,
        ExpertCalibration.Summary experts) {

    /** Per-tier accuracy on one group of prompts (e.g. task "add", level 3), over all rows. */
    public record Breakdown(int prompts, double[] accuracy) {}

    static CalibrationResult of(Calibrator.Options o, String ladderName, Path ladderDir, Path routerFile, List<String> tierNames, List<Long> params,
                                List<TaskRow> rows, TierAnswers answers, Splits splits, Outcomes heldOut, Outcomes validation,
                                ThresholdSearch.Choice choice, Map<String, Double> thresholds, RouterHead head,
                                ExpertCalibration.Summary experts) {
        int k = tierNames.size();
        List<CurvePoint> singles = new ArrayList<>();
        for (int t = 0; t < k; t++) singles.add(heldOut.single(t));
        List<ThresholdSearch.SweepPoint> sweep = ThresholdSearch.sweep(heldOut);
        List<CurvePoint> curve = sweep.stream().map(ThresholdSearch.SweepPoint::point).toList();
        CurvePoint weak = singles.getFirst(), strong = singles.getLast();
        CurvePoint routed = heldOut.routed(choice.thresholds());

        double[] shares = heldOut.shares(choice.thresholds());
        double[] acc = new double[shares.length];
        int[] count = new int[shares.length];
        for (int i = 0; i < heldOut.prompts(); i++) {
            int d = heldOut.decide(i, choice.thresholds());
            int g = d == Outcomes.ENSEMBLE ? k : d;
            count[g]++;
            if (heldOut.routedRight(i, d)) acc[g]++;
        }
        for (int t = 0; t < acc.length; t++) acc[t] = count[t] == 0 ? Double.NaN : acc[t] / count[t];

        Map<String, Breakdown> groups = new TreeMap<>();
        Map<String, List<Integer>> members = new LinkedHashMap<>();
        for (int i = 0; i < rows.size(); i++) {
            TaskRow r = rows.get(i);
            String group = r.extra("task") != null || r.extra("level") != null
                    ? (r.extra("task") != null ? r.extra("task") : "-") + " / " + (r.extra("level") != null ? r.extra("level") : "-")
                    : r.extra("category");
            if (group != null) members.computeIfAbsent(group, g -> new ArrayList<>()).add(i);
        }
        members.forEach((g, idx) -> {
            double[] a = new double[k];
            for (int i : idx) for (int t = 0; t < k; t++) if (answers.correct()[i][t]) a[t] += 1.0 / idx.size();
            groups.put(g, new Breakdown(idx.size(), a));
        });

        Path dir = ladderDir;
        return new CalibrationResult(o, ladderName, routerFile, dir.resolve("calibration-report.md"), dir.resolve("calibration-report.svg"),
                List.copyOf(tierNames), List.copyOf(params), rows.size(), splits.train().length, splits.validation().length, splits.heldOut().length,
                singles, sweep, thresholds, choice.point(), choice.metTarget(), routed, shares, acc, ensembleAlone(heldOut),
                RoutingMetrics.pgr(routed.quality(), weak.quality(), strong.quality()),
                RoutingMetrics.apgr(curve, weak, strong),
                RoutingMetrics.cpt(curve, weak, strong, 0.5),
                RoutingMetrics.cpt(curve, weak, strong, 0.8),
                RoutingMetrics.randomQuality(singles, routed.cost()),
                head.training(), groups, answers.escalations(), experts);
    }

    /** The ensemble answering every prompt (no gatekeeper), or null when the ladder has none. */
    private static CurvePoint ensembleAlone(Outcomes o) {
        if (!o.hasEnsemble()) return null;
        double q = 0, c = 0;
        for (int i = 0; i < o.prompts(); i++) {
            if (o.ensembleCorrect()[i]) q++;
            c += o.ensembleCost()[i];
        }
        return new CurvePoint(c / o.largestCost(), q / o.prompts());
    }

    public List<CurvePoint> routerCurve() {
        return sweep.stream().map(ThresholdSearch.SweepPoint::point).toList();
    }
}
