package dev.gearbox.calibrate;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/** Writes calibration-report.md and calibration-report.svg beside the ladder. */
public final class CalibrationReport {
    private CalibrationReport() {}

    public static void write(CalibrationResult r) throws IOException {
        Files.writeString(r.reportMarkdown(), markdown(r));
        Files.writeString(r.reportSvg(), svg(r));
    }

    static String svg(CalibrationResult r) {
        List<SvgPlot.Series> series = new ArrayList<>();
        List<CurvePoint> curve = new ArrayList<>(r.routerCurve());
        curve.sort(java.util.Comparator.comparingDouble(CurvePoint::cost));
        series.add(new SvgPlot.Series("router (threshold sweep)", curve, "#1f77b4", false));
        List<CurvePoint> random = new ArrayList<>(RoutingMetrics.randomFrontier(r.singles()));
        double xEnd = Math.max(1, curve.stream().mapToDouble(CurvePoint::cost).max().orElse(1));
        if (random.getLast().cost() < xEnd) random.add(new CurvePoint(xEnd, random.getLast().quality()));
        series.add(new SvgPlot.Series("random routing", random, "#888888", true));
        List<SvgPlot.Dot> dots = new ArrayList<>();
        String[] colors = {"#2ca02c", "#ff7f0e", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf"};
        for (int t = 0; t < r.tierNames().size(); t++) {
            dots.add(new SvgPlot.Dot("tier " + r.tierNames().get(t), r.singles().get(t), colors[t % colors.length], true));
        }
        if (r.ensemble() != null) dots.add(new SvgPlot.Dot("ensemble", r.ensemble(), "#7f7f00", true));
        dots.add(new SvgPlot.Dot("chosen setting", r.routed(), "#000000", false));
        return SvgPlot.render("Ladder '" + r.ladderName() + "': quality vs compute (held-out, " + r.heldOutRows() + " prompts)",
                "compute as a share of always-largest", "quality (share correct)", series, dots);
    }

    static String markdown(CalibrationResult r) {
        StringBuilder sb = new StringBuilder();
        var o = r.options();
        sb.append("# Calibration report: ladder `").append(r.ladderName()).append("`\n\n");
        sb.append("- Data: `").append(o.data()).append("`, ").append(r.rows()).append(" prompts, split (seed ").append(o.seed())
                .append(") into ").append(r.trainRows()).append(" training, ").append(r.validationRows()).append(" validation, ")
                .append(r.heldOutRows()).append(" held-out.\n");
        sb.append("- Target: ").append(o.target().describe()).append(" (chosen on the validation split: ")
                .append(r.metTarget() ? "met" : "**not met**, the closest setting was kept").append(String.format(Locale.ROOT,
                        ", validation quality %.3f at compute share %.3f).\n", r.validationPoint().quality(), r.validationPoint().cost()));
        sb.append("- Router file: `").append(r.routerFile().getFileName()).append("` (logistic head per tier, trained on ")
                .append(r.training() != null ? r.training().examples() : r.trainRows()).append(" prompts). Thresholds: ");
        List<String> th = new ArrayList<>();
        for (int t = 0; t + 1 < r.tierNames().size(); t++) {
            Double v = r.thresholds().get(r.tierNames().get(t));
            th.add(r.tierNames().get(t) + " " + (v == null ? "never" : String.format(Locale.ROOT, "%.2f", v)));
        }
        if (r.ensemble() != null) {
            Double v = r.thresholds().get("ensemble");
            th.add("ensemble " + (v == null ? "never" : String.format(Locale.ROOT, "%.2f (when every tier's probability is below it)", v)));
        }
        sb.append(String.join(", ", th)).append(".\n");
        sb.append("- Quality: a tier's answer is right when it matches the row's reference (exact, numeric or contains); rows without one count\n")
                .append("  as right when the answer agrees with the largest tier's. Compute: FLOPs from the model shapes (prefill + decode;\n")
                .append("  routed settings include the gatekeeper's pass), as a share of the largest tier answering every prompt.\n");
        if (r.escalations() > 0) {
            sb.append("- Escalation: prompts routed to a watched tier were also run as routing runs them (escalation on, every hop\n")
                    .append("  charged); routed quality and compute use those runs. ").append(r.escalations())
                    .append(" of those runs (all prompts, all watched tiers) escalated.\n");
        }
        sb.append('\n');

        sb.append("## Tiers (held-out split)\n\n");
        sb.append("| tier | parameters | accuracy alone | compute share alone | routed share | accuracy on its routed prompts |\n");
        sb.append("|---|---:|---:|---:|---:|---:|\n");
        for (int t = 0; t < r.tierNames().size(); t++) {
            CurvePoint s = r.singles().get(t);
            sb.append(String.format(Locale.ROOT, "| %s | %,d | %.3f | %.3f | %.1f%% | %s |%n", r.tierNames().get(t), r.parameterCounts().get(t),
                    s.quality(), s.cost(), 100 * r.routedShares()[t], fmt(r.routedAccuracy()[t])));
        }
        if (r.ensemble() != null) {
            sb.append(String.format(Locale.ROOT, "| ensemble | | %.3f | %.3f | %.1f%% | %s |%n", r.ensemble().quality(), r.ensemble().cost(),
                    100 * r.routedShares()[r.tierNames().size()], fmt(r.routedAccuracy()[r.tierNames().size()])));
        }
        sb.append("\n## Routing (held-out split)\n\n");
        sb.append("| measure | value |\n|---|---:|\n");
        CurvePoint largest = r.singles().getLast();
        row(sb, "routed quality", fmt(r.routed().quality()));
        row(sb, "always-largest quality", fmt(largest.quality()));
        row(sb, "routed quality / largest", largest.quality() == 0 ? "n/a" : fmt(r.routed().quality() / largest.quality()));
        row(sb, "routed compute share (gatekeeper included)", fmt(r.routed().cost()));
        row(sb, "random routing's quality at the same compute", fmt(r.randomAtSameCost()));
        row(sb, "PGR of the chosen setting", fmt(r.pgr()));
        row(sb, "APGR (threshold sweep)", fmt(r.apgr()));
        row(sb, "CPT(50%) (compute share)", fmt(r.cpt50()));
        row(sb, "CPT(80%) (compute share)", fmt(r.cpt80()));
        sb.append("\nPGR = (routed − smallest tier) / (largest tier − smallest tier) quality. APGR is the mean PGR of the sweep's\n")
                .append("monotone curve between the smallest tier's compute and the largest's (0.5 = random two-model routing).\n")
                .append("CPT(x) is the least compute share at which the curve recovers x of the gap. Random routing sends each prompt\n")
                .append("to a tier at random; its best expected quality at a compute share is the upper hull of the single-tier points.\n\n");
        if (r.experts() != null) appendExperts(sb, r, largest);
        sb.append("![quality against compute](").append(r.reportSvg().getFileName()).append(")\n\n");

        sb.append("## Threshold sweep (held-out; one threshold for every tier)\n\n");
        sb.append("| threshold | compute share | quality | PGR |\n|---:|---:|---:|---:|\n");
        CurvePoint weak = r.singles().getFirst();
        CurvePoint last = null;
        for (ThresholdSearch.SweepPoint p : r.sweep()) {
            if (last != null && last.equals(p.point())) continue; // thresholds that change nothing
            last = p.point();
            sb.append(String.format(Locale.ROOT, "| %s | %.3f | %.3f | %s |%n", p.threshold() > 1 ? "never" : String.format(Locale.ROOT, "%.2f", p.threshold()),
                    p.point().cost(), p.point().quality(), fmt(RoutingMetrics.pgr(p.point().quality(), weak.quality(), largest.quality()))));
        }

        if (!r.byTaskLevel().isEmpty()) {
            sb.append("\n## Accuracy by task and level (all prompts)\n\n| group | prompts |");
            for (String t : r.tierNames()) sb.append(" ").append(t).append(" |");
            sb.append("\n|---|---:|").append("---:|".repeat(r.tierNames().size())).append("\n");
            for (Map.Entry<String, CalibrationResult.Breakdown> e : r.byTaskLevel().entrySet()) {
                sb.append("| ").append(e.getKey()).append(" | ").append(e.getValue().prompts()).append(" |");
                for (double a : e.getValue().accuracy()) sb.append(String.format(Locale.ROOT, " %.2f |", a));
                sb.append("\n");
            }
        }
        if (r.training() != null && !r.training().tiers().isEmpty()) {
            sb.append("\n## Router head training\n\n| tier | positives | training accuracy | log-loss |\n|---|---:|---:|---:|\n");
            r.training().tiers().forEach((name, f) -> sb.append(String.format(Locale.ROOT, "| %s | %d | %.3f | %.3f |%n", name, f.positives(), f.accuracy(), f.logLoss())));
        }
        return sb.toString();
    }

    /** Routing with SVF experts (router-experts.json), against the same always-largest baseline. */
    private static void appendExperts(StringBuilder sb, CalibrationResult r, CurvePoint largest) {
        ExpertCalibration.Summary e = r.experts();
        sb.append("## Routing with SVF experts (held-out split)\n\n");
        sb.append("The task head (tasks ").append(String.join(", ", e.tasks())).append(") picks each prompt's expert; every tier that has it\n")
                .append("answers with it, and a router head trained on those answers picks the tier. Baseline: the largest tier without an expert.\n\n");
        sb.append("| measure | value |\n|---|---:|\n");
        row(sb, "task head: tasks named right", fmt(e.taskAccuracy()));
        row(sb, "routed quality with experts", fmt(e.routed().quality()));
        row(sb, "routed quality / largest", largest.quality() == 0 ? "n/a" : fmt(e.routed().quality() / largest.quality()));
        row(sb, "routed compute share (gatekeeper included)", fmt(e.routed().cost()));
        row(sb, "prompts answered with an expert", fmt(e.expertShare()));
        for (int t = 0; t < r.tierNames().size(); t++) row(sb, "routed to " + r.tierNames().get(t), fmt(e.shares()[t]));
        if (e.shares().length > r.tierNames().size()) row(sb, "routed to the ensemble", fmt(e.shares()[r.tierNames().size()]));
        row(sb, "thresholds", e.thresholds().toString());
        sb.append("\nWritten to ").append(e.file().getFileName()).append(".\n\n");
    }

    private static void row(StringBuilder sb, String k, String v) {
        sb.append("| ").append(k).append(" | ").append(v).append(" |\n");
    }

    static String fmt(double v) {
        if (Double.isNaN(v)) return "n/a";
        return String.format(Locale.ROOT, "%.3f", Math.abs(v) < 5e-4 ? 0.0 : v); // never "-0.000"
    }
}
