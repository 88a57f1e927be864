package dev.gearbox.constrain;

import dev.gearbox.model.Model;
import dev.gearbox.model.Sequence;
import dev.gearbox.sample.Sampler;
import dev.gearbox.sample.SamplingParams;
import dev.gearbox.tokenizer.Tokenizer;

import java.nio.file.Path;
import java.util.Locale;

/**
 * Decode tokens/s with and without a JSON-schema constraint on a real model, with the loop an
 * engine would run: sample; if the constraint rejects the token, mask and sample again; accept.
 * A finished output starts a new request (a new constraint from the same index) so that the run
 * covers whole outputs, structure and strings alike. Not a test:
 * <pre>java --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp target/gearbox.jar \
 *     dev.gearbox.constrain.ConstraintDecodeBench MODEL.gguf [tokens=256] [rounds=3]</pre>
 * A random-weight model (gearbox synth) samples nearly uniformly, so its tokens are rejected far
 * more often than a trained model's: a pessimistic case for the constraint.
 */
public final class ConstraintDecodeBench {
    private ConstraintDecodeBench() {}

    public static void main(String[] args) throws Exception {
        Path path = Path.of(args[0]);
        int n = args.length > 1 ? Integer.parseInt(args[1]) : 256;
        int rounds = args.length > 2 ? Integer.parseInt(args[2]) : 3;
        try (Model model = Model.load(path, new dev.gearbox.backend.cpu.CpuBackend())) {
            Tokenizer tok = model.tokenizer();
            long a = System.nanoTime();
            TokenVocabulary vocab = TokenVocabulary.of(tok);
            ConstraintIndex index = ConstraintIndex.of(JsonSchemaCompiler.compile(ConstraintBench.SCHEMA), vocab);
            System.out.printf(Locale.ROOT, "model %s, vocab %d, vocabulary index and schema built in %.0f ms%n", path.getFileName(),
                    vocab.size(), (System.nanoTime() - a) / 1e6);
            for (int r = 0; r < rounds + 1; r++) { // round 0 warms the JIT and the shared index
                double free = run(model, tok, null, n, r);
                Stats s = new Stats();
                double constrained = run(model, tok, index, n, r, s);
                if (r == 0) continue;
                System.out.printf(Locale.ROOT, "round %d: unconstrained %.1f tok/s, constrained %.1f tok/s (%.1f%%); "
                                + "rejected %d of %d sampled tokens, %d outputs finished, constraint time %.1f us/token%n",
                        r, free, constrained, 100 * constrained / free, s.rejected, n, s.outputs, s.constraintNanos / 1e3 / n);
                System.out.printf(Locale.ROOT, "  of which masks %.1f us/token (%d over 1 ms); resampling after a rejection %.1f us/token%n",
                        s.maskNanos / 1e3 / n, s.slowMasks, s.resampleNanos / 1e3 / n);
                if (SHOW_TEXT) System.out.println("  text: " + s.text);
            }
        }
    }

    private static final boolean SHOW_TEXT = System.getProperty("gearbox.showText") != null;

    static final class Stats {
        int rejected, outputs, slowMasks;
        long constraintNanos, maskNanos, resampleNanos;
        final StringBuilder text = new StringBuilder();
    }

    private static double run(Model model, Tokenizer tok, ConstraintIndex index, int n, int round) {
        return run(model, tok, index, n, round, new Stats());
    }

    // Tokens per second over n decode steps (after a one-token prompt).
    private static double run(Model model, Tokenizer tok, ConstraintIndex index, int n, int round, Stats stats) {
        Sampler sampler = new Sampler(SamplingParams.builder().seed(round).build());
        try (Sequence seq = model.newSequence(n + 8)) {
            int t = tok.bos() >= 0 ? tok.bos() : 0;
            Constraint c = index == null ? null : index.newConstraint();
            long start = System.nanoTime();
            for (int i = 0; i < n; i++) {
                float[] logits = seq.forward(new int[] {t});
                t = sampler.sample(logits).token();
                if (c != null) {
                    long x = System.nanoTime();
                    if (!c.allows(t)) {
                        stats.rejected++;
                        long m0 = System.nanoTime();
                        c.mask(logits);
                        long y = System.nanoTime();
                        stats.maskNanos += y - m0;
                        if (y - m0 > 1_000_000) stats.slowMasks++;
                        t = sampler.sample(logits).token();
                        long resample = System.nanoTime() - y;
                        stats.resampleNanos += resample;
                        x += resample; // the resampling is the sampler's time, counted apart
                    }
                    c.accept(t);
                    boolean done = c.complete();
                    if (done) c = index.newConstraint();
                    stats.constraintNanos += System.nanoTime() - x;
                    if (done) stats.outputs++;
                    if (SHOW_TEXT) stats.text.append(tok.decode(new int[] {t}, false));
                }
            }
            return n / ((System.nanoTime() - start) / 1e9);
        }
    }
}
