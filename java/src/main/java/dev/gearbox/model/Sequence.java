package dev.gearbox.model;

import dev.gearbox.backend.Backend;
import dev.gearbox.backend.Backend.Buffer;
import dev.gearbox.backend.KVCache;
import dev.gearbox.profile.Profiler;
import dev.gearbox.profile.Span;
import dev.gearbox.sample.TokenChoice;

/**
 * One sequence being generated: its KV cache and position. {@link #forward} runs a batch of new
 * tokens through the model, all of them as matrices (prefill) or a single token (decode). The
 * forward pass is written once against {@link Backend}; it never asks which device it runs on.
 */
public final class Sequence implements AutoCloseable {
    /** Prompts longer than this are prefilled in chunks, which bounds activation memory. */
    static final int MAX_BATCH = 512;

    private final Model model;
    private final ModelConfig c;
    private final Backend be;
    private final KVCache cache;
    private int position;

    private final ForwardPass pass;
    // ForwardPass's per-segment arguments for this one sequence, kept so a decode step allocates none
    private static final int[] ZERO = {0};
    private final KVCache[] caches;
    private final int[] pos0 = new int[1], count = new int[1];
    private Buffer logits;
    private int logitRows;
    private final Adaptation[] adaptation = new Adaptation[1];   // ForwardPass's per-segment argument; [0] null = base weights

    Sequence(Model model, int capacity, Backend be) {
        this(model, capacity, be, model.config().layers());
    }

    /** {@code layers}: how many layers' keys and values the cache holds (fewer only for readers of the first blocks). */
    Sequence(Model model, int capacity, Backend be, int layers) {
        this.model = model;
        this.c = model.config();
        this.be = be;
        this.cache = be.allocateKV(layers, capacity, c.kvDim());
        this.caches = new KVCache[] {cache};
        this.pass = new ForwardPass(model, be);
    }

    /**
     * Runs this sequence with {@code a} (an SVF expert of this model; null = the base weights) from
     * its first token on. Only an empty sequence may take one: its keys and values would otherwise
     * mix two models' (a prefix copied in with {@link #append} must come from the same adaptation).
     */
    public void adapt(Adaptation a) {
        if (a != null && a.model() != model) throw new IllegalArgumentException("adaptation " + a.name() + " belongs to another model");
        if (position != 0 && a != adaptation[0]) {
            throw new IllegalStateException("a sequence holding " + position + " positions cannot change its adaptation");
        }
        adaptation[0] = a;
    }

    /** The adaptation this sequence runs with, or null for the base weights. */
    public Adaptation adaptation() { return adaptation[0]; }

    /** Layers whose keys and values this sequence's cache holds. */
    public int layers() { return cache.layers(); }

    /** Tokens consumed so far, which is also the position of the next token. */
    public int position() { return position; }

    public int capacity() { return cache.capacity(); }

    public Model model() { return model; }

    /** The backend (lane) this sequence's cache lives on; only a {@link BatchStep} of the same lane may step it. */
    Backend backend() { return be; }

    /** The cache, for {@link BatchStep}, which runs several sequences in one pass. */
    KVCache cache() { return cache; }

    /** Bytes of KV cache this sequence holds. */
    public long cacheBytes() { return cache.bytes(); }

    /** Marks {@code n} more positions as filled (after {@link BatchStep} stored their keys and values). */
    void advance(int n) { position += n; }

    /**
     * Appends {@code n} positions computed elsewhere: positions [from, from + n) of {@code src} (a
     * cache of this model on this sequence's backend) become this sequence's next positions, as if
     * their tokens had been fed here. What a prefix cache does instead of recomputing a shared prefix.
     */
    public void append(KVCache src, int from, int n) {
        if (position + n > capacity()) throw new IllegalArgumentException("context full: " + position + " + " + n + " > " + capacity());
        be.copyKV(src, from, cache, position, n);
        position += n;
    }

    /** Copies this sequence's positions [from, from + n) into {@code dst} at {@code to} (a cache of this model on this backend). */
    public void copyTo(int from, KVCache dst, int to, int n) {
        if (from + n > position) throw new IllegalArgumentException("positions " + from + ".." + (from + n) + " are not filled (" + position + ")");
        be.copyKV(cache, from, dst, to, n);
    }

    /** Forgets everything after the first {@code n} positions (e.g. to reuse a shared prefix). */
    public void truncate(int n) {
        if (n < 0 || n > position) throw new IllegalArgumentException("cannot truncate to " + n + " of " + position + " positions");
        position = n;
    }

    /** Runs {@code tokens} through the model and returns the logits after the last one. */
    public float[] forward(int[] tokens) {
        Span span = Profiler.start(tokens.length == 1 ? "forward_decode" : "forward_prefill", "forward").tokens(tokens.length).batch(1);
        try (Backend.StepScope scope = be.openStep(tokens.length)) {
            float[][] all = run(tokens, false, null, true);
            return all[0];
        } finally {
            span.end();
        }
    }

    /**
     * Runs {@code tokens} through the model and chooses the next token where the logits are (see
     * {@link Backend#choose}): on a device only the token id and its log-probability come back.
     * {@code step} numbers the draws of one request, so each gets fresh random numbers.
     */
    public TokenChoice.Choice forwardChoose(int[] tokens, TokenChoice choice, int step) {
        Span span = Profiler.start(tokens.length == 1 ? "forward_decode" : "forward_prefill", "forward").tokens(tokens.length).batch(1);
        try (Backend.StepScope scope = be.openStep(tokens.length)) {
            run(tokens, false, null, false);
            return be.choose(logits, 0, c.vocabSize(), choice, step);
        } finally {
            span.end();
        }
    }

    /** Runs {@code tokens} through the model and returns the logits at every position. */
    public float[][] forwardAll(int[] tokens) {
        try (Backend.StepScope scope = be.openStep(tokens.length)) {
            return run(tokens, true, null, true);
        }
    }

    /** Logits and final (output-normed) hidden states at every position of one prefill pass. */
    public record Outputs(float[][] logits, float[][] hidden) {}

    /**
     * Runs {@code tokens} through the model and returns, per position, the logits and the final
     * hidden state after the output norm: what a gatekeeper reads to judge a prompt.
     */
    public Outputs forwardWithHidden(int[] tokens) {
        float[][] hidden = new float[tokens.length][];
        try (Backend.StepScope scope = be.openStep(tokens.length)) {
            float[][] logits = run(tokens, true, hidden, true);
            return new Outputs(logits, hidden);
        }
    }

    /**
     * With {@code read} false the last position's logits stay in {@link #logits} (row 0) and nothing
     * is returned. Runs inside the caller's step scope ({@link Backend#openStep}).
     */
    private float[][] run(int[] tokens, boolean allLogits, float[][] hiddenOut, boolean read) {
        if (tokens.length == 0) throw new IllegalArgumentException("no tokens to run");
        if (position + tokens.length > capacity()) {
            throw new IllegalArgumentException("context full: " + position + " positions used + " + tokens.length
                    + " new tokens exceeds the context size " + capacity());
        }
        for (int t : tokens) {
            if (t < 0 || t >= c.vocabSize()) throw new IllegalArgumentException("token id " + t + " is outside the vocabulary [0, " + c.vocabSize() + ")");
        }
        float[][] out = new float[allLogits ? tokens.length : 1][];
        for (int start = 0; start < tokens.length; start += MAX_BATCH) {
            int n = Math.min(MAX_BATCH, tokens.length - start);
            int[] chunk = n == tokens.length ? tokens : java.util.Arrays.copyOfRange(tokens, start, start + n);
            boolean last = start + n == tokens.length;
            forwardChunk(chunk);
            if (hiddenOut != null) {
                for (int r = 0; r < n; r++) {
                    float[] h = new float[c.dim()];
                    be.read(pass.x, (long) r * c.dim(), h, 0, c.dim());
                    hiddenOut[start + r] = h;
                }
            }
            if (allLogits) {
                readLogits(n, out, start);
            } else if (last && read) {
                readLogits(1, out, 0);
            } else if (last) {
                projectLogits(1);
            }
        }
        return out;
    }

    /** One batch of n tokens at positions [position, position + n): updates the cache, leaves the output-normed hidden states in pass.x. */
    private void forwardChunk(int[] tokens) {
        int n = tokens.length;
        bufferRowsUsed = n;
        pos0[0] = position;
        count[0] = n;
        pass.run(tokens, caches, pos0, ZERO, count, adaptation);
        be.rmsNorm(pass.x, pass.x, model.weights().outputNorm(), n, c.dim(), c.rmsEps());
        if (pass.profiling) {
            pass.meter.other();
            pass.meter.emit();   // the vocabulary projection (readLogits) is left out of the chunk's op totals
        }
        position += n;
    }

    /** Logits of the last {@code rows} positions of the current chunk into out[outOff ...]. */
    private void readLogits(int rows, float[][] out, int outOff) {
        projectLogits(rows);
        for (int r = 0; r < rows; r++) {
            float[] row = new float[c.vocabSize()];
            be.read(logits, (long) r * c.vocabSize(), row, 0, row.length);
            out[outOff + r] = row;
        }
    }

    /** Logits of the last {@code rows} positions of the current chunk into rows of {@link #logits}. */
    private void projectLogits(int rows) {
        int chunkRows = bufferRowsUsed;
        Buffer src = pass.x;
        if (rows < chunkRows) {
            be.copy(pass.x, (long) (chunkRows - rows) * c.dim(), pass.xb, 0, (long) rows * c.dim());
            src = pass.xb;
        }
        if (logits == null || logitRows < rows) {
            logits = be.allocate((long) rows * c.vocabSize());
            logitRows = rows;
        }
        be.matmul(model.weights().output(), src, rows, logits);
    }

    private int bufferRowsUsed;

    @Override
    public void close() {
        cache.close();
    }
}
