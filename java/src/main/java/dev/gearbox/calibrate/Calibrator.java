package dev.gearbox.calibrate;

import dev.gearbox.ladder.Ladder;
import dev.gearbox.schedule.LadderEngine;
import dev.gearbox.router.Decision;
import dev.gearbox.router.Features;
import dev.gearbox.router.Router;
import dev.gearbox.router.RouterHead;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code gearbox calibrate}: answers every prompt with every tier, grades the answers, reads each
 * prompt with the gatekeeper, trains the router head on the training split, picks per-tier
 * thresholds on the validation split for the target, measures everything on the held-out split,
 * and writes router.json beside the ladder plus calibration-report.md / .svg.
 */
public final class Calibrator {

    /**
     * What to calibrate for: exactly one of {@code targetQuality} (a share of the largest tier's
     * quality, e.g. 0.95) and {@code budget} (a share of its compute, e.g. 0.3) is set.
     */
    public record Target(Double targetQuality, Double budget) {
        public Target {
            if ((targetQuality == null) == (budget == null)) throw new IllegalArgumentException("give one of --target-quality and --budget");
        }

        public static Target quality(double share) { return new Target(share, null); }

        public static Target budget(double share) { return new Target(null, share); }

        public String describe() {
            return targetQuality != null
                    ? "quality >= " + plain(targetQuality) + " x the largest tier's, at the least compute"
                    : "the best quality within " + plain(budget) + " x the largest tier's compute";
        }

        private static String plain(double v) {
            return java.math.BigDecimal.valueOf(v).stripTrailingZeros().toPlainString();
        }
    }

    public record Options(Path ladder, Path data, Target target, double split, long seed, AnswerCache cache, PrintWriter progress) {}

    private Calibrator() {}

    public static CalibrationResult run(Options o) throws IOException {
        List<TaskRow> rows = Dataset.read(o.data());
        Splits splits = Splits.of(rows.size(), o.split(), o.seed()); // fail on too little data before any model runs
        PrintWriter log = o.progress();
        try (Ladder ladder = Ladder.open(o.ladder());
             Router router = Router.zeroShot(ladder); // only its gatekeeper is used: an old router.json must not get in the way
             LadderEngine engine = LadderEngine.measuring(ladder, router)) {
            if (ladder.tiers().size() < 2) throw new IllegalArgumentException(o.ladder() + ": calibration needs at least two tiers");
            say(log, "calibrate: %d prompts from %s, %d tiers (%s), split %d train / %d validation / %d held-out",
                    rows.size(), o.data(), ladder.tiers().size(), String.join(", ", ladder.tierNames()),
                    splits.train().length, splits.validation().length, splits.heldOut().length);
            TierAnswers answers = TierAnswers.run(engine, rows, o.cache(), log, "calibrate", true);

            // Gatekeeper features, once per prompt.
            int n = rows.size(), k = ladder.tiers().size();
            double[][] x = new double[n][];
            double[] gkFlops = new double[n];
            double gkNanos = 0;
            List<String> featureNames = null;
            for (int i = 0; i < n; i++) {
                var c = rows.get(i).conversation();
                var in = c != null ? router.input(c) : new Router.Input(rows.get(i).text(), null);
                Features f = router.gatekeeper().features(in.text(), in.ids());
                x[i] = f.vector();
                gkFlops[i] = f.flops();
                gkNanos += f.nanos();
                featureNames = f.names();
            }
            say(log, "calibrate: gatekeeper features for %d prompts (%.2f ms each on average)", n, gkNanos / n / 1e6);

            boolean[][] labels = answers.asGoodAsLargest();
            RouterHead head = RouterHead.train(featureNames, ladder.tierNames(), pick(x, splits.train()), pick(labels, splits.train()), RouterHead.DEFAULT_L2);
            double[][] p = new double[n][];
            for (int i = 0; i < n; i++) p[i] = head.probabilities(x[i]);
            Outcomes all = new Outcomes(answers.correct(), answers.flops(), answers.routedCorrect(), answers.routedFlops(), gkFlops, p,
                    answers.ensembleCorrect(), answers.ensembleFlops());

            Outcomes validation = all.subset(splits.validation());
            ThresholdSearch.Choice choice = o.target().targetQuality() != null
                    ? ThresholdSearch.forTargetQuality(validation, o.target().targetQuality())
                    : ThresholdSearch.forBudget(validation, o.target().budget());
            Map<String, Double> thresholds = thresholdsOf(choice, ladder.tierNames(), all.hasEnsemble());
            RouterHead calibrated = head.withThresholds(thresholds);
            Path routerFile = ladder.routerPath();
            calibrated.save(routerFile);
            say(log, "calibrate: wrote %s", routerFile);

            ExpertCalibration.Summary experts = ExpertCalibration.applies(ladder, rows)
                    ? ExpertCalibration.run(o, ladder, engine, rows, splits, x, featureNames, gkFlops, answers, log) : null;

            Outcomes heldOut = all.subset(splits.heldOut());
            List<Long> params = new ArrayList<>();
            for (var t : ladder.tiers()) params.add(t.parameterCount());
            CalibrationResult result = CalibrationResult.of(o, ladder.name(), ladder.dir(), routerFile, ladder.tierNames(), params,
                    rows, answers, splits, heldOut, validation, choice, thresholds, calibrated, experts);
            CalibrationReport.write(result);
            say(log, "calibrate: wrote %s and %s", result.reportMarkdown(), result.reportSvg());
            return result;
        }
    }

    /** A threshold search's choice as router.json writes it. */
    static Map<String, Double> thresholdsOf(ThresholdSearch.Choice choice, List<String> tierNames, boolean ensemble) {
        int k = tierNames.size();
        Map<String, Double> thresholds = new LinkedHashMap<>();
        for (int t = 0; t + 1 < k; t++) {
            // A threshold above 1 means "never stop here": router.json says that by leaving the tier out.
            if (choice.thresholds()[t] <= 1) thresholds.put(tierNames.get(t), choice.thresholds()[t]);
        }
        if (ensemble && choice.thresholds()[k - 1] > 0) {
            // 0 means "never the ensemble" (no key); above 1, "whenever no tier clears", which 1 says in router.json's range.
            thresholds.put(Decision.ENSEMBLE, Math.min(1.0, choice.thresholds()[k - 1]));
        }
        return thresholds;
    }

    private static void say(PrintWriter log, String format, Object... args) {
        if (log == null) return;
        log.printf(format + "%n", args);
        log.flush();
    }

    static double[][] pick(double[][] a, int[] idx) {
        double[][] out = new double[idx.length][];
        for (int i = 0; i < idx.length; i++) out[i] = a[idx[i]];
        return out;
    }

    static boolean[][] pick(boolean[][] a, int[] idx) {
        boolean[][] out = new boolean[idx.length][];
        for (int i = 0; i < idx.length; i++) out[i] = a[idx[i]];
        return out;
    }
}
