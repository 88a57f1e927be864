package dev.gearbox.router;

import dev.gearbox.ladder.LadderConfig.GatekeeperConfig;
import dev.gearbox.model.Model;
import dev.gearbox.model.PromptReader;
import dev.gearbox.model.Sequence;
import dev.gearbox.sample.Sampler;
import dev.gearbox.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * Reads prompts with one prefill pass of a small model on the CPU and turns each into features
 * for the router: mean-pooled and last-position hidden states, prompt length, and (reading every
 * layer) surprisal statistics of the prompt's own tokens and the entropy and top-1 probability of
 * the next token. {@link #read} takes many prompts at once in one batched pass, so prompts that
 * wait together are read together, and the matrices are read once for all of them.
 *
 * <p>Options ({@code gatekeeper:} in the ladder): read only the last {@code max_prompt_tokens}
 * tokens; run only the first {@code layers} blocks (hidden-state and length features, no logits:
 * far cheaper on a big model with a big vocabulary).
 *
 * <p>Safe for several threads: each pass takes sequences and a reader of its own from small pools,
 * no lock is held while prompts are read.
 */
public final class Gatekeeper implements AutoCloseable {
    /** How many final prompt tokens the "last-k" surprisal averages over. */
    public static final int LAST_K = 8;

    /** Scalar features after the two hidden-state blocks, in vector order, reading every layer. */
    public static final List<String> SCALAR_FEATURES = List.of(
            "log_prompt_tokens", "log_prompt_chars", "surprisal_mean", "surprisal_max", "surprisal_std",
            "surprisal_last_k_mean", "entropy_last", "top1_prob_last");
    /** Scalar features when only the first blocks run (no logits). */
    public static final List<String> LENGTH_FEATURES = List.of("log_prompt_tokens", "log_prompt_chars");

    private final Model model;
    private final Tokenizer tokenizer;
    private final int context, limit, layers;
    private final boolean logits;
    private final ConcurrentLinkedQueue<Sequence> idle = new ConcurrentLinkedQueue<>();
    private final ConcurrentLinkedQueue<PromptReader> readers = new ConcurrentLinkedQueue<>();
    private final List<String> names;
    private final int dim;
    private volatile boolean closed;

    public Gatekeeper(Model model, int context) {
        this(model, new GatekeeperConfig(null, context));
    }

    public Gatekeeper(Model model, GatekeeperConfig config) {
        this.model = model;
        this.tokenizer = model.tokenizer();
        this.context = Math.max(2, config.context());
        this.limit = Math.max(2, config.promptLimit());
        int all = model.config().layers();
        if (config.layers() > all) throw new IllegalArgumentException("gatekeeper.layers " + config.layers() + " but the model has " + all + " layers");
        this.layers = config.layers() <= 0 ? all : config.layers();
        this.logits = layers == all;
        this.dim = model.config().dim();
        List<String> n = new ArrayList<>();
        for (int i = 0; i < dim; i++) n.add("hidden_mean_" + i);
        for (int i = 0; i < dim; i++) n.add("hidden_last_" + i);
        n.addAll(logits ? SCALAR_FEATURES : LENGTH_FEATURES);
        this.names = Collections.unmodifiableList(n);
    }

    public Model model() { return model; }

    public int context() { return context; }

    /** Blocks a pass runs (the model's all, unless {@code gatekeeper.layers} says fewer). */
    public int layers() { return layers; }

    /** Whether a pass reads every layer and the logits (surprisal, entropy), so its KV cache is a whole prefill. */
    public boolean readsLogits() { return logits; }

    /** Names of the feature vector's entries, in order. */
    public List<String> featureNames() { return names; }

    public int featureCount() { return names.size(); }

    /** The prompt's tokens as the gatekeeper reads them (BOS first; the last tokens of a prompt longer than its limit). */
    public int[] tokens(String prompt) {
        return tokens(prompt, null);
    }

    /** {@link #tokens(String)}, or {@code ids} (the prompt's tokens made by the caller, e.g. a rendered chat) cut to the limit. */
    public int[] tokens(String prompt, int[] ids) {
        if (ids == null) ids = tokenizer.encode(prompt, true, false);
        if (ids.length > limit) ids = Arrays.copyOfRange(ids, ids.length - limit, ids.length);
        if (ids.length == 0) ids = new int[] {tokenizer.bos()};
        return ids;
    }

    /** Whether {@link #tokens} reads all of the prompt's tokens (nothing cut from the front). */
    public boolean readsWhole(String prompt, int[] ids) {
        return (ids != null ? ids.length : tokenizer.encode(prompt, true, false).length) <= limit;
    }

    /** One prefill pass over the prompt. */
    public Features features(String prompt) {
        return read(List.of(prompt), null, null).getFirst().features();
    }

    /** {@link #features(String)} of a prompt whose ids the caller made ({@link #tokens(String, int[])}). */
    public Features features(String prompt, int[] ids) {
        return read(List.of(prompt), ids == null ? null : java.util.Collections.singletonList(ids), null).getFirst().features();
    }

    /**
     * What one prompt's reading left: its features and, when asked to keep it, the sequence that
     * holds the prompt's KV cache (the caller closes it or hands it on).
     */
    public record Reading(Features features, int[] tokens, Sequence kept, float[] lastLogits) {}

    /**
     * Reads all prompts in one batched pass. {@code keep}: null, or per prompt the capacity of a
     * sequence to keep with the prompt's KV cache in it (0 = do not keep; only with every layer read),
     * for a tier that runs this same model to continue from.
     */
    public List<Reading> read(List<String> prompts, int[] keep) {
        return read(prompts, null, keep);
    }

    /** {@link #read(List, int[])} with, per prompt, the ids to read (null in the list, or a null list: tokenize the text). */
    public List<Reading> read(List<String> prompts, List<int[]> given, int[] keep) {
        if (closed) throw new IllegalStateException("the gatekeeper is closed");
        long t0 = System.nanoTime();
        int ns = prompts.size();
        List<int[]> ids = new ArrayList<>(ns);
        List<Sequence> seqs = new ArrayList<>(ns);
        boolean[] kept = new boolean[ns];
        PromptReader reader = readers.poll();
        if (reader == null) reader = new PromptReader(model, model.backend(), layers, logits);
        Acc[] acc = new Acc[ns];
        try {
            for (int i = 0; i < ns; i++) {
                int[] t = tokens(prompts.get(i), given == null ? null : given.get(i));
                ids.add(t);
                acc[i] = new Acc(t);
                kept[i] = keep != null && keep[i] > 0 && logits;
                Sequence s;
                if (kept[i]) {
                    s = model.newSequence(Math.max(keep[i], t.length));
                } else {
                    s = idle.poll();
                    if (s == null) s = logits ? model.newSequence(context) : model.newPartialSequence(context, layers);
                    s.truncate(0);
                }
                seqs.add(s);
            }
            reader.read(seqs, ids, (p, pos, hidden, lg) -> acc[p].row(pos, hidden, lg));
        } catch (RuntimeException e) {
            for (int i = 0; i < seqs.size(); i++) if (kept[i]) seqs.get(i).close();
            throw e;
        } finally {
            readers.add(reader);
            for (int i = 0; i < seqs.size(); i++) {
                if (kept[i]) continue;
                if (closed) seqs.get(i).close();
                else idle.add(seqs.get(i));
            }
        }
        long each = (System.nanoTime() - t0) / Math.max(1, ns);
        List<Reading> out = new ArrayList<>(ns);
        for (int i = 0; i < ns; i++) {
            out.add(new Reading(acc[i].features(prompts.get(i).length(), each), ids.get(i), kept[i] ? seqs.get(i) : null,
                    kept[i] ? acc[i].lastLogits : null));
        }
        return out;
    }

    /**
     * Reads made-up prompts so the first real one finds the pass compiled (the JIT needs many runs
     * of it) and its buffers allocated: up to 64 rounds, at most about 1.5 s (a big gatekeeper gets
     * fewer rounds, each of which warms more code), at least 3.
     */
    public void warmUp() {
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 48; i++) sb.append((char) ('a' + i % 26));
        long until = System.nanoTime() + 1_500_000_000L;
        for (int round = 0; round < 64 && (round < 3 || System.nanoTime() < until); round++) {
            read(List.of(sb.toString(), sb.substring(0, 20 + round % 20)), null, null);
            features(sb.substring(0, 5 + round % 40));
        }
    }

    /** One prompt's running sums as its rows arrive. */
    private final class Acc {
        final int[] ids;
        final double[] v = new double[names.size()];
        double sum, sumSq, max, lastK, entropy = Double.NaN, top1 = Double.NaN;
        float[] lastLogits;     // the next-token logits after the prompt, kept with a kept sequence

        Acc(int[] ids) {
            this.ids = ids;
        }

        void row(int pos, float[] hidden, float[] lg) {
            int n = ids.length;
            for (int i = 0; i < dim; i++) v[i] += hidden[i];
            if (pos == n - 1) for (int i = 0; i < dim; i++) v[dim + i] = hidden[i];
            if (lg == null) return;
            if (pos < n - 1) {
                // Surprisal of the actual next prompt token: -log softmax(logits[pos])[ids[pos + 1]].
                double s = -Sampler.logSoftmaxAt(lg, ids[pos + 1]);
                sum += s;
                sumSq += s * s;
                max = Math.max(max, s);
                if (pos >= n - 1 - LAST_K) lastK += s;
            } else {
                // The next-token distribution after the whole prompt.
                double mx = Double.NEGATIVE_INFINITY;
                for (float x : lg) mx = Math.max(mx, x);
                double z = 0, ez = 0;
                for (float x : lg) {
                    double e = Math.exp(x - mx);
                    z += e;
                    ez += e * (x - mx);
                }
                entropy = Math.log(z) - ez / z;
                top1 = 1.0 / z;
                lastLogits = lg.clone();
            }
        }

        Features features(int chars, long nanos) {
            int n = ids.length, m = n - 1;
            for (int i = 0; i < dim; i++) v[i] /= n;
            int k = 2 * dim;
            v[k++] = Math.log1p(n);
            v[k++] = Math.log1p(chars);
            Signals sig;
            if (logits) {
                double mean = m > 0 ? sum / m : 0;
                double std = m > 0 ? Math.sqrt(Math.max(0, sumSq / m - mean * mean)) : 0;
                double lastKMean = m > 0 ? lastK / Math.min(m, LAST_K) : 0;
                v[k++] = mean;
                v[k++] = max;
                v[k++] = std;
                v[k++] = lastKMean;
                v[k++] = entropy;
                v[k] = top1;
                sig = new Signals(n, chars, mean, max, std, lastKMean, entropy, top1, tokenizer.vocabSize());
            } else {
                // Early layers only: no logits, so none of the distribution's signals.
                sig = new Signals(n, chars, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, Double.NaN, tokenizer.vocabSize());
            }
            double flops = layerFlops(n);
            return new Features(v, names, sig, nanos, flops);
        }
    }

    /**
     * FLOPs of reading {@code n} tokens: every layer and the logits at every position (which
     * {@link dev.gearbox.model.ModelConfig#flops} counts per token), or the first blocks alone.
     */
    private double layerFlops(int n) {
        var c = model.config();
        double full = c.flops(0, n);
        if (logits) return full;
        double vocabulary = 2.0 * n * (double) c.vocabSize() * c.dim();
        return (full - vocabulary) * layers / c.layers();
    }

    @Override
    public void close() {
        closed = true;
        Sequence s;
        while ((s = idle.poll()) != null) s.close();
    }
}
