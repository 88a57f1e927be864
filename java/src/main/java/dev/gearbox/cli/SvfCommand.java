package dev.gearbox.cli;

import dev.gearbox.ladder.Ladder;
import dev.gearbox.ladder.LadderConfig;
import dev.gearbox.svf.MatrixSelection;
import dev.gearbox.svf.SvfDecomposer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.concurrent.Callable;

/**
 * {@code gearbox svf}: Transformer²'s singular-value fine-tuning: {@code decompose} a tier's
 * matrices, {@code eval} its experts per task, {@code adapt} to a new task from a few examples
 * (docs/svf.md). Experts themselves are trained by scripts/train-experts.sh.
 */
@Command(name = "svf", mixinStandardHelpOptions = true,
        description = "Singular-value fine-tuning (Transformer² SVF): decompose a tier's matrices, evaluate its experts, adapt to a new task, bench experts.",
        subcommands = {SvfCommand.Decompose.class, SvfCommand.Eval.class, SvfCommand.Adapt.class, SvfBenchCommand.class})
public final class SvfCommand implements Runnable {
    @Spec CommandSpec spec;

    @Override
    public void run() {
        throw new ParameterException(spec.commandLine(), "Missing a subcommand (decompose, eval, adapt, bench)");
    }

    /** {@code gearbox svf decompose}: the thin SVD of each chosen matrix of one tier's model, to a sidecar GGUF. */
    @Command(name = "decompose", mixinStandardHelpOptions = true,
            description = "Write the thin SVD (U, s, V as F32) of a tier's MLP and/or attention matrices to a sidecar GGUF.")
    static final class Decompose implements Callable<Integer> {
        @Option(names = {"-l", "--ladder"}, paramLabel = "FILE",
                description = "Ladder YAML (default: models/ladder.yaml of the repository, found from the working directory or the jar).")
        Path ladder;

        @Option(names = "--tier", paramLabel = "NAME", description = "the tier whose model is decomposed (default: the largest)")
        String tier;

        @Option(names = "--matrices", paramLabel = "SET", description = "mlp (ffn_gate/up/down), attn (attn_q/k/v/output) or all (default ${DEFAULT-VALUE})")
        String matrices = "mlp";

        @Option(names = {"-o", "--output"}, paramLabel = "FILE", description = "the sidecar (default: <model>.svf.gguf beside the model)")
        Path output;

        @Spec CommandSpec spec;

        @Override
        public Integer call() throws IOException {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            MatrixSelection sel;
            try {
                sel = MatrixSelection.parse(matrices);
            } catch (IllegalArgumentException e) {
                throw new ParameterException(spec.commandLine(), "--matrices: " + e.getMessage());
            }
            // Only the ladder file is read: decomposing one tier has no reason to load every model.
            LadderConfig config = LadderConfig.read(ladder != null ? ladder : Ladder.defaultPath());
            LadderConfig.TierConfig tc = tier == null ? config.tiers().getLast() : config.tiers().stream()
                    .filter(t -> t.name().equals(tier)).findFirst()
                    .orElseThrow(() -> new IllegalArgumentException("no tier named '" + tier + "' in " + config.file()));
            Path model = config.resolve(tc.model());
            Path dest = output != null ? output : SvfDecomposer.defaultSidecar(model);
            long start = System.nanoTime();
            int[] count = {0};
            SvfDecomposer.write(model, tc.name(), sel, dest, name -> {
                count[0]++;
                err.println("svf: " + name);
                err.flush();
            });
            out.printf("%s: %d matrices (%s) of tier '%s' (%s) in %.1f s%n", dest, count[0], sel.label(), tc.name(), model,
                    (System.nanoTime() - start) / 1e9);
            out.flush();
            return Main.EXIT_OK;
        }
    }
    /** {@code gearbox svf eval}: per tier × task, base, expert and few-shot mixture accuracy on held-out prompts. */
    @Command(name = "eval", mixinStandardHelpOptions = true,
            description = {"Per tier with experts and per task of the workload: held-out accuracy without an expert (base), with the task's",
                    "expert (expert) and with a few-shot mixture of the tier's other experts (mixture, alpha by the cross-entropy method",
                    "on --shots examples of the task from --few-shot), plus what adaptation costs a request."})
    static final class Eval implements Callable<Integer> {
        @Option(names = {"-l", "--ladder"}, paramLabel = "FILE", description = "Ladder YAML (default: models/ladder.yaml)")
        Path ladder;

        @Option(names = "--data", paramLabel = "FILE", description = "held-out rows with task and reference (default: data/heldout.jsonl beside the ladder)")
        Path data;

        @Option(names = "--few-shot", paramLabel = "FILE", description = "rows the mixture's examples come from (default: data/calibration.jsonl beside the ladder; 'none': no mixture)")
        String fewShot;

        @Option(names = "--shots", paramLabel = "N", description = "examples per task for the mixture search (default ${DEFAULT-VALUE})")
        int shots = 16;

        @Option(names = "--json", description = "print one JSON object: tiers -> tier -> task -> {base, expert, mixture}")
        boolean json;

        @Option(names = "--cache", paramLabel = "FILE", description = "answer cache (default: $XDG_CACHE_HOME/gearbox/answers.jsonl or ~/.cache/gearbox/answers.jsonl)")
        Path cache;

        @Option(names = "--no-cache", description = "answer everything afresh")
        boolean noCache;

        @Spec CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            if (shots < 1) throw new ParameterException(spec.commandLine(), "--shots must be at least 1, got " + shots);
            Path ladderFile = DemoCommand.resolveLadder(ladder);
            Path dir = ladderFile.toAbsolutePath().getParent();
            Path dataFile = data != null ? data : dir.resolve("data").resolve("heldout.jsonl");
            Path shotsFile = "none".equals(fewShot) ? null : fewShot != null ? Path.of(fewShot) : dir.resolve("data").resolve("calibration.jsonl");
            if (shotsFile != null && shotsFile.toAbsolutePath().normalize().equals(dataFile.toAbsolutePath().normalize())) {
                throw new ParameterException(spec.commandLine(), "--few-shot must not be the evaluated file (" + dataFile + "): the mixture would be fitted on its own test prompts");
            }
            try (dev.gearbox.calibrate.AnswerCache answers = noCache ? dev.gearbox.calibrate.AnswerCache.disabled()
                    : dev.gearbox.calibrate.AnswerCache.open(cache != null ? cache : dev.gearbox.calibrate.AnswerCache.defaultFile())) {
                var r = dev.gearbox.calibrate.ExpertEval.run(new dev.gearbox.calibrate.ExpertEval.Options(ladderFile, dataFile, shotsFile, shots, answers,
                        spec.commandLine().getErr()));
                PrintWriter out = spec.commandLine().getOut();
                out.print(json ? r.toJson() + "\n" : r.toText());
                out.flush();
            }
            return Main.EXIT_OK;
        }
    }

    /** {@code gearbox svf adapt}: a new expert for a task from a few examples, mixing a tier's experts. */
    @Command(name = "adapt", mixinStandardHelpOptions = true,
            description = {"Few-shot adaptation (Transformer²): finds mixture weights alpha over a tier's experts (z' = sum alpha_k z_k) by the",
                    "cross-entropy method on the examples' exact-match accuracy, and writes the mixture as a new expert file."})
    static final class Adapt implements Callable<Integer> {
        @Option(names = {"-l", "--ladder"}, paramLabel = "FILE", description = "Ladder YAML (default: models/ladder.yaml)")
        Path ladder;

        @Option(names = "--tier", required = true, paramLabel = "NAME", description = "the tier whose experts are mixed")
        String tier;

        @Option(names = "--examples", required = true, paramLabel = "FILE", description = "JSONL rows with prompt and reference (the task's few examples)")
        Path examples;

        @Option(names = "--task", paramLabel = "NAME", description = "the new expert's task name (default: the examples' task field, else 'adapted')")
        String task;

        @Option(names = {"-o", "--output"}, required = true, paramLabel = "FILE", description = "the expert file to write (add it to the ladder's experts: to serve it)")
        Path output;

        @Option(names = "--generations", paramLabel = "N", description = "rounds of the search (default ${DEFAULT-VALUE})")
        int generations = FewShotDefaults.GENERATIONS;

        @Option(names = "--population", paramLabel = "N", description = "candidates per round (default ${DEFAULT-VALUE})")
        int population = FewShotDefaults.POPULATION;

        @Option(names = "--seed", paramLabel = "N", description = "random seed (default ${DEFAULT-VALUE})")
        long seed = 1234;

        @Spec CommandSpec spec;

        @Override
        public Integer call() throws Exception {
            if (generations < 1 || population < 2) throw new ParameterException(spec.commandLine(), "--generations must be >= 1 and --population >= 2");
            var rows = dev.gearbox.calibrate.Dataset.read(examples);
            String name = task != null ? task : rows.stream().map(r -> r.extra("task")).filter(java.util.Objects::nonNull).findFirst().orElse("adapted");
            var d = dev.gearbox.calibrate.FewShotAdaptation.DEFAULT_SEARCH;
            var search = new dev.gearbox.svf.CrossEntropySearch(population, Math.max(1, population / 4), generations, d.initialStd(), d.minStd(), seed);
            try (Ladder l = Ladder.open(DemoCommand.resolveLadder(ladder))) {
                var t = l.tier(tier);
                long start = System.nanoTime();
                var found = dev.gearbox.calibrate.FewShotAdaptation.adapt(t, name, rows, l.maxAnswerTokens(), search);
                found.expert().write(output);
                PrintWriter out = spec.commandLine().getOut();
                out.printf(java.util.Locale.ROOT, "%s: expert '%s' for tier '%s': %s (%.1f s)%n", output, name, tier, found.describe(), (System.nanoTime() - start) / 1e9);
                out.flush();
            }
            return Main.EXIT_OK;
        }
    }

    /** The search {@code adapt} runs unless told otherwise (FewShotAdaptation.DEFAULT_SEARCH's sizes). */
    private static final class FewShotDefaults {
        static final int GENERATIONS = 6;
        static final int POPULATION = 12;
    }
}
