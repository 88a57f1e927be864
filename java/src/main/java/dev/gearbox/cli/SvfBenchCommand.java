package dev.gearbox.cli;

import dev.gearbox.backend.cpu.CpuBackend;
import dev.gearbox.ladder.Ladder;
import dev.gearbox.ladder.LadderConfig;
import dev.gearbox.model.Adaptation;
import dev.gearbox.model.BatchStep;
import dev.gearbox.model.Model;
import dev.gearbox.model.Sequence;
import dev.gearbox.svf.MatrixSelection;
import dev.gearbox.svf.SvfAdapter;
import dev.gearbox.svf.SvfDecomposer;
import dev.gearbox.svf.SvfExpert;
import dev.gearbox.svf.SvfFactors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Callable;

/**
 * {@code gearbox svf bench}: decode tokens/s of one tier's model on the CPU with SVF experts
 * against its base weights, and a batch mixing four experts against a batch with one. Uses the
 * tier's experts when it has four, else random ones (z = 1 + 0.3 N(0, 1)) on a decomposition of its
 * MLP made in a temporary file: the speed of an expert does not depend on what it learned.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = "Decode tokens/s with SVF experts vs the base tier, and four mixed experts vs one, in one batch.")
final class SvfBenchCommand implements Callable<Integer> {
    @Option(names = {"-l", "--ladder"}, paramLabel = "FILE", description = "Ladder YAML (default: models/ladder.yaml).")
    Path ladder;

    @Option(names = "--tier", paramLabel = "NAME", defaultValue = "m", description = "the tier (default ${DEFAULT-VALUE})")
    String tier;

    @Option(names = "--expert-form", paramLabel = "FORM", defaultValue = "low_rank", description = "exact or low_rank (default ${DEFAULT-VALUE})")
    String form;

    @Option(names = "--expert-rank", paramLabel = "R", defaultValue = "16", description = "rank of the low-rank form (default ${DEFAULT-VALUE})")
    int rank;

    @Option(names = {"-n", "--n-gen"}, paramLabel = "N", defaultValue = "128", description = "tokens decoded per run (default ${DEFAULT-VALUE})")
    int tokens;

    @Option(names = "--batch", paramLabel = "B", defaultValue = "4", description = "sequences per batched step (default ${DEFAULT-VALUE})")
    int batch;

    @Option(names = {"-r", "--repetitions"}, paramLabel = "R", defaultValue = "5", description = "runs per measure; the median is shown (default ${DEFAULT-VALUE})")
    int reps;

    @Spec CommandSpec spec;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        LadderConfig config = LadderConfig.read(ladder != null ? ladder : Ladder.defaultPath());
        LadderConfig.TierConfig tc = config.tiers().stream().filter(t -> t.name().equals(tier)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no tier named '" + tier + "' in " + config.file()));
        Path modelFile = config.resolve(tc.model());
        SvfAdapter.Form f = SvfAdapter.Form.parse(form);
        Path sidecar = Files.createTempFile("gearbox-bench-", ".svf.gguf");
        try (Model model = Model.load(modelFile, new CpuBackend())) {
            // The tier's own experts when the ladder names four; else random ones on its MLP.
            List<Path> files = new ArrayList<>();
            for (String e : tc.experts().values()) files.add(config.resolve(e));
            boolean own = files.size() >= 4;
            MatrixSelection sel = own ? null : MatrixSelection.MLP;
            for (Path e : own ? files.subList(0, 4) : List.<Path>of()) {
                try (var g = dev.gearbox.gguf.GGUFFile.open(e)) {
                    MatrixSelection m = MatrixSelection.parse(g.getString("svf.matrices", "mlp"));
                    sel = sel == null || sel == m ? m : MatrixSelection.ALL;
                }
            }
            SvfDecomposer.write(modelFile, tier, sel, sidecar, name -> { });
            List<SvfAdapter.Built> experts = new ArrayList<>();
            try (SvfFactors factors = SvfFactors.open(sidecar, modelFile)) {
                for (int i = 0; i < 4; i++) {
                    SvfExpert e = own ? SvfExpert.read(files.get(i), factors.baseSha256()) : random(factors, i);
                    experts.add(SvfAdapter.build(model, factors, e, f, rank, tier + ":" + e.task()));
                }
            }
            out.printf(Locale.ROOT, "tier %s (%s), %s experts %s%s on %d matrices, low-rank error max %.3f mean %.3f%n", tier, modelFile,
                    own ? "the tier's" : "random",
                    f.label(), f == SvfAdapter.Form.LOW_RANK ? " rank " + rank : "", experts.getFirst().adaptation().changedMatrices(),
                    experts.getFirst().maxRelativeError(), experts.getFirst().meanRelativeError());
            Adaptation one = experts.getFirst().adaptation();
            Adaptation[] same = new Adaptation[batch], mixed = new Adaptation[batch], none = new Adaptation[batch];
            for (int i = 0; i < batch; i++) {
                same[i] = one;
                mixed[i] = experts.get(i % experts.size()).adaptation();
            }
            // Interleaved: every repetition runs each configuration once, after two untimed rounds of
            // all of them, so JIT warm-up and the machine's drift fall on every configuration alike
            // (measured one after the other, the second configuration came out 35-40% faster than the
            // first, on the same work: warm-up, not the expert).
            double[][] tps = new double[5][reps];
            BatchStep step = model.newBatchStep();
            for (int r = -2; r < reps; r++) {
                double[] round = {decode(model, null), decode(model, one), batched(model, step, none), batched(model, step, same), batched(model, step, mixed)};
                if (r >= 0) for (int c = 0; c < round.length; c++) tps[c][r] = round[c];
            }
            double base = median(tps[0]), adapted = median(tps[1]), b0 = median(tps[2]), b1 = median(tps[3]), b4 = median(tps[4]);
            out.printf(Locale.ROOT, "decode, 1 sequence:   base %.1f t/s, expert %.1f t/s (%.1f%%)%n", base, adapted, 100 * adapted / base);
            out.printf(Locale.ROOT, "decode, batch of %d:   base %.1f t/s, one expert %.1f t/s (%.1f%% of base), four mixed %.1f t/s (%.1f%% of one)%n",
                    batch, b0, b1, 100 * b1 / b0, b4, 100 * b4 / b1);
            out.printf(Locale.ROOT, "(medians of %d interleaved repetitions of %d tokens each)%n", reps, tokens);
            out.flush();
        } finally {
            Files.deleteIfExists(sidecar);
        }
        return Main.EXIT_OK;
    }

    private static SvfExpert random(SvfFactors f, long seed) {
        Random rnd = new Random(seed);
        Map<String, float[]> z = new LinkedHashMap<>();
        for (String t : f.tensorNames()) {
            float[] v = new float[f.shape(t).rank()];
            for (int i = 0; i < v.length; i++) v[i] = (float) (1 + 0.3 * rnd.nextGaussian());
            z.put(t, v);
        }
        return new SvfExpert(f.tier(), f.baseSha256(), "random" + seed, f.matrices().label(), "random, svf bench", z, null);
    }

    /** Tokens/s of one run decoding {@link #tokens} tokens one at a time after a one-token prompt. */
    private double decode(Model model, Adaptation a) {
        try (Sequence s = model.newSequence(tokens + 1)) {
            s.adapt(a);
            s.forward(new int[] {1});
            long t0 = System.nanoTime();
            for (int i = 0; i < tokens; i++) s.forward(new int[] {1 + i % 200});
            return tokens / ((System.nanoTime() - t0) / 1e9);
        }
    }

    /** Tokens/s (all sequences together) of one run of batched decode steps, sequence i running with {@code per[i]}. */
    private double batched(Model model, BatchStep step, Adaptation[] per) {
        List<Sequence> seqs = new ArrayList<>();
        try {
            for (Adaptation a : per) {
                Sequence s = model.newSequence(tokens + 1);
                s.adapt(a);
                seqs.add(s);
            }
            int[][] feed = new int[per.length][];
            for (int i = 0; i < per.length; i++) feed[i] = new int[] {1 + i};
            step.step(seqs, feed);
            long t0 = System.nanoTime();
            for (int t = 0; t < tokens; t++) {
                for (int i = 0; i < per.length; i++) feed[i] = new int[] {1 + (i + t) % 200};
                step.step(seqs, feed);
            }
            return (double) tokens * per.length / ((System.nanoTime() - t0) / 1e9);
        } finally {
            seqs.forEach(Sequence::close);
        }
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
