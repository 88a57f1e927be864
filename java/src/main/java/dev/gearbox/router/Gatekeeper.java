package dev.gearbox.router;

import dev.gearbox.model.Model;
import dev.gearbox.model.Sequence;
import dev.gearbox.sample.Sampler;
import dev.gearbox.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Reads a prompt with one prefill pass of a small model on the CPU and turns it into features
 * for the router: mean-pooled and last-position hidden states, prompt length, surprisal
 * statistics of the prompt's own tokens, and the entropy and top-1 probability of the next token.
 *
 * <p>Keeps a small pool of sequences and reuses them (truncated to 0), so a KV cache and the
 * forward pass's buffers are allocated once per concurrent caller, not per prompt. Safe for several
 * threads: each pass takes a sequence of its own, no lock is held while a prompt is read.
 */
public final class Gatekeeper implements AutoCloseable {
    /** How many final prompt tokens the "last-k" surprisal averages over. */
    public static final int LAST_K = 8;

    /** Scalar features after the two hidden-state blocks, in vector order. */
    public static final List<String> SCALAR_FEATURES = List.of(
            "log_prompt_tokens", "log_prompt_chars", "surprisal_mean", "surprisal_max", "surprisal_std",
            "surprisal_last_k_mean", "entropy_last", "top1_prob_last");

    private final Model model;
    private final Tokenizer tokenizer;
    private final int context;
    private final java.util.concurrent.ConcurrentLinkedQueue<Sequence> idle = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private volatile boolean closed;
    private final List<String> names;
    private final int dim;

    public Gatekeeper(Model model, int context) {
        this.model = model;
        this.tokenizer = model.tokenizer();
        this.context = Math.max(2, context);
        this.dim = model.config().dim();
        List<String> n = new ArrayList<>(2 * dim + SCALAR_FEATURES.size());
        for (int i = 0; i < dim; i++) n.add("hidden_mean_" + i);
        for (int i = 0; i < dim; i++) n.add("hidden_last_" + i);
        n.addAll(SCALAR_FEATURES);
        this.names = Collections.unmodifiableList(n);
    }

    public Model model() { return model; }

    public int context() { return context; }

    /** Names of the feature vector's entries, in order. */
    public List<String> featureNames() { return names; }

    public int featureCount() { return names.size(); }

    /** The prompt's tokens as the gatekeeper reads them (BOS first; the last {@link #context()} tokens of a long prompt). */
    public int[] tokens(String prompt) {
        int[] ids = tokenizer.encode(prompt, true, false);
        if (ids.length > context) ids = java.util.Arrays.copyOfRange(ids, ids.length - context, ids.length);
        if (ids.length == 0) ids = new int[] {tokenizer.bos()};
        return ids;
    }

    /** One prefill pass over the prompt. */
    public Features features(String prompt) {
        long t0 = System.nanoTime();
        int[] ids = tokens(prompt);
        if (closed) throw new IllegalStateException("the gatekeeper is closed");
        Sequence seq = idle.poll();
        if (seq == null) seq = model.newSequence(context);
        Sequence.Outputs out;
        try {
            seq.truncate(0);
            out = seq.forwardWithHidden(ids);
        } finally {
            if (closed) seq.close();
            else idle.add(seq);
        }
        int n = ids.length;
        double[] v = new double[names.size()];

        // Hidden states: mean over positions and the last position.
        for (int p = 0; p < n; p++) {
            float[] h = out.hidden()[p];
            for (int i = 0; i < dim; i++) v[i] += h[i];
        }
        for (int i = 0; i < dim; i++) v[i] /= n;
        float[] last = out.hidden()[n - 1];
        for (int i = 0; i < dim; i++) v[dim + i] = last[i];

        // Surprisal of each actual next prompt token: -log softmax(logits[p])[ids[p + 1]].
        int m = n - 1;
        double sum = 0, sumSq = 0, max = 0, lastK = 0;
        for (int p = 0; p < m; p++) {
            double s = -logSoftmaxAt(out.logits()[p], ids[p + 1]);
            sum += s;
            sumSq += s * s;
            max = Math.max(max, s);
            if (p >= m - LAST_K) lastK += s;
        }
        double mean = m > 0 ? sum / m : 0;
        double std = m > 0 ? Math.sqrt(Math.max(0, sumSq / m - mean * mean)) : 0;
        double lastKMean = m > 0 ? lastK / Math.min(m, LAST_K) : 0;

        // Next-token distribution after the whole prompt.
        float[] lg = out.logits()[n - 1];
        double mx = Double.NEGATIVE_INFINITY;
        for (float x : lg) mx = Math.max(mx, x);
        double z = 0, ez = 0;
        for (float x : lg) {
            double e = Math.exp(x - mx);
            z += e;
            ez += e * (x - mx);
        }
        double entropy = Math.log(z) - ez / z;
        double top1 = 1.0 / z;

        Signals sig = new Signals(n, prompt.length(), mean, max, std, lastKMean, entropy, top1, tokenizer.vocabSize());
        int k = 2 * dim;
        v[k++] = Math.log1p(n);
        v[k++] = Math.log1p(prompt.length());
        v[k++] = mean;
        v[k++] = max;
        v[k++] = std;
        v[k++] = lastKMean;
        v[k++] = entropy;
        v[k] = top1;
        double flops = model.config().flops(0, n);
        return new Features(v, names, sig, System.nanoTime() - t0, flops);
    }

    /** SIMD log-softmax at one index: one exp per vocabulary entry per prompt position is most of the non-model work here. */
    static double logSoftmaxAt(float[] logits, int token) {
        return Sampler.logSoftmaxAt(logits, token);
    }

    @Override
    public void close() {
        closed = true;
        Sequence s;
        while ((s = idle.poll()) != null) s.close();
    }
}
