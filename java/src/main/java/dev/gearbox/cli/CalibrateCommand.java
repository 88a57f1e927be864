package dev.gearbox.cli;

import dev.gearbox.calibrate.AnswerCache;
import dev.gearbox.calibrate.CalibrationResult;
import dev.gearbox.calibrate.Calibrator;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.util.Locale;
import java.util.concurrent.Callable;

/** {@code gearbox calibrate}: trains the ladder's router on the user's data and reports how it routes. */
@Command(name = "calibrate", mixinStandardHelpOptions = true,
        description = {
                "Run every prompt of a JSONL file on every tier, grade the answers, train the router head on a training split,",
                "pick per-tier thresholds on a validation split for the target, and measure it on a held-out split.",
                "Writes router.json beside the ladder and calibration-report.md / .svg there. Progress goes to stderr.",
                "Rows: {\"prompt\", \"reference\"?, \"grade\"?: exact|numeric|contains}, GSM8K {\"question\", \"answer\"},",
                "OpenAI chat {\"messages\"}, or MT-Bench {\"turns\"}; rows without a reference are graded by agreement with the largest tier."})
public final class CalibrateCommand implements Callable<Integer> {
    @Option(names = "--ladder", paramLabel = "FILE", description = "the ladder YAML (default: models/ladder.yaml)")
    Path ladder;

    @Option(names = "--data", paramLabel = "FILE", required = true, description = "prompts with references, JSONL")
    Path data;

    @ArgGroup(exclusive = true)
    TargetGroup target;

    static final class TargetGroup {
        @Option(names = "--target-quality", paramLabel = "SHARE",
                description = "cheapest routing whose quality is at least SHARE x the largest tier's (default 0.95)")
        Double quality;

        @Option(names = "--budget", paramLabel = "SHARE", description = "best quality within SHARE x the largest tier's compute")
        Double budget;
    }

    @Option(names = "--split", paramLabel = "F", description = "share of rows for training the head; the rest is halved into validation and held-out (default ${DEFAULT-VALUE})")
    double split = 0.5;

    @Option(names = "--seed", paramLabel = "S", description = "seed of the random split (default ${DEFAULT-VALUE})")
    long seed = 1;

    @Option(names = "--cache", paramLabel = "FILE", description = "answer cache (default: $XDG_CACHE_HOME/gearbox/answers.jsonl or ~/.cache/gearbox/answers.jsonl)")
    Path cache;

    @Option(names = "--no-cache", description = "neither read nor write the answer cache")
    boolean noCache;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        Calibrator.Target t;
        if (target != null && target.budget != null) t = Calibrator.Target.budget(target.budget);
        else t = Calibrator.Target.quality(target != null && target.quality != null ? target.quality : 0.95);
        if (!(split > 0 && split < 1)) throw new ParameterException(spec.commandLine(), "--split must be strictly between 0 and 1, got " + split);
        Path ladderFile = DemoCommand.resolveLadder(ladder);
        try (AnswerCache answers = noCache ? AnswerCache.disabled() : AnswerCache.open(cache != null ? cache : AnswerCache.defaultFile())) {
            CalibrationResult r = Calibrator.run(new Calibrator.Options(ladderFile, data, t, split, seed, answers, spec.commandLine().getErr()));
            var out = spec.commandLine().getOut();
            var largest = r.singles().getLast();
            out.printf(Locale.ROOT, "router: %s (thresholds %s)%n", r.routerFile(), r.thresholds());
            out.printf(Locale.ROOT, "held-out (%d prompts): routed quality %.3f vs largest %.3f at %.1f%% of its compute; random routing at that compute %.3f%n",
                    r.heldOutRows(), r.routed().quality(), largest.quality(), 100 * r.routed().cost(), r.randomAtSameCost());
            out.printf(Locale.ROOT, "PGR %s, APGR %s, CPT(50%%) %s, CPT(80%%) %s%n", f(r.pgr()), f(r.apgr()), f(r.cpt50()), f(r.cpt80()));
            if (r.experts() != null) {
                var e = r.experts();
                out.printf(Locale.ROOT, "with SVF experts: %s (thresholds %s): routed quality %.3f at %.1f%% of the largest tier's compute; tasks named right %.3f%n",
                        e.file(), e.thresholds(), e.routed().quality(), 100 * e.routed().cost(), e.taskAccuracy());
            }
            out.printf(Locale.ROOT, "report: %s, %s%n", r.reportMarkdown(), r.reportSvg());
            if (!r.metTarget()) out.println("note: no setting met the target on the validation split; the closest was kept");
            out.flush();
            return 0;
        }
    }

    private static String f(double v) {
        return Double.isNaN(v) ? "n/a" : String.format(Locale.ROOT, "%.3f", v);
    }
}
