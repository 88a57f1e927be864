package dev.gearbox.model;

import dev.gearbox.profile.OpMeter;
import dev.gearbox.profile.Profiler;
import dev.gearbox.profile.Span;

import dev.gearbox.backend.Backend;
import dev.gearbox.backend.Backend.Buffer;
import dev.gearbox.backend.KVCache;

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

    private int bufferRows;
    private Buffer x, xb, q, k, v, att, hb, hb2, tmp, logits;
    private int logitRows;

    Sequence(Model model, int capacity) {
        this.model = model;
        this.c = model.config();
        this.be = model.backend();
        this.cache = be.allocateKV(c.layers(), capacity, c.kvDim());
    }

    /** Tokens consumed so far, which is also the position of the next token. */
    public int position() { return position; }

    public int capacity() { return cache.capacity(); }

    public Model model() { return model; }

    /** The cache, for {@link BatchStep}, which runs several sequences in one pass. */
    KVCache cache() { return cache; }

    /** Bytes of KV cache this sequence holds. */
    public long cacheBytes() { return cache.bytes(); }

    /** Marks {@code n} more positions as filled (after {@link BatchStep} stored their keys and values). */
    void advance(int n) { position += n; }

    /** Forgets everything after the first {@code n} positions (e.g. to reuse a shared prefix). */
    public void truncate(int n) {
        if (n < 0 || n > position) throw new IllegalArgumentException("cannot truncate to " + n + " of " + position + " positions");
        position = n;
    }

    /** Runs {@code tokens} through the model and returns the logits after the last one. */
    public float[] forward(int[] tokens) {
        Span span = Profiler.start(tokens.length == 1 ? "forward_decode" : "forward_prefill", "forward").tokens(tokens.length).batch(1);
        try {
            float[][] all = run(tokens, false, null);
            return all[0];
        } finally {
            span.end();
        }
    }

    /** Runs {@code tokens} through the model and returns the logits at every position. */
    public float[][] forwardAll(int[] tokens) {
        return run(tokens, true, null);
    }

    /** Logits and final (output-normed) hidden states at every position of one prefill pass. */
    public record Outputs(float[][] logits, float[][] hidden) {}

    /**
     * Runs {@code tokens} through the model and returns, per position, the logits and the final
     * hidden state after the output norm: what a gatekeeper reads to judge a prompt.
     */
    public Outputs forwardWithHidden(int[] tokens) {
        float[][] hidden = new float[tokens.length][];
        float[][] logits = run(tokens, true, hidden);
        return new Outputs(logits, hidden);
    }

    private float[][] run(int[] tokens, boolean allLogits, float[][] hiddenOut) {
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
            int[] chunk = java.util.Arrays.copyOfRange(tokens, start, start + n);
            boolean last = start + n == tokens.length;
            forwardChunk(chunk);
            if (hiddenOut != null) {
                for (int r = 0; r < n; r++) {
                    float[] h = new float[c.dim()];
                    be.read(x, (long) r * c.dim(), h, 0, c.dim());
                    hiddenOut[start + r] = h;
                }
            }
            if (allLogits) {
                readLogits(n, out, start);
            } else if (last) {
                readLogits(1, out, 0);
            }
        }
        return out;
    }

    /** One batch of n tokens at positions [position, position + n): updates the cache, leaves the final hidden states in x. */
    private void forwardChunk(int[] tokens) {
        int n = tokens.length;
        ensureBuffers(n);
        Weights w = model.weights();
        int pos0 = position;
        float scale = (float) (1.0 / Math.sqrt(c.headDim()));

        boolean p = Profiler.active();   // one read per chunk: op laps cost nothing while off
        if (p) meter.begin();
        be.embed(w.tokenEmbedding(), tokens, x);
        for (int l = 0; l < c.layers(); l++) {
            Weights.Layer L = w.layers()[l];
            // attention
            be.rmsNorm(x, xb, L.attnNorm(), n, c.dim(), c.rmsEps());
            if (p) meter.other();
            be.matmul(L.wq(), xb, n, q);
            if (p) meter.matmul(L.wq(), n);
            be.matmul(L.wk(), xb, n, k);
            if (p) meter.matmul(L.wk(), n);
            be.matmul(L.wv(), xb, n, v);
            if (p) meter.matmul(L.wv(), n);
            if (L.bq() != null) {
                be.addBias(q, L.bq(), n, c.qDim());
                be.addBias(k, L.bk(), n, c.kvDim());
                be.addBias(v, L.bv(), n, c.kvDim());
            }
            if (L.qNorm() != null) {
                be.rmsNorm(q, q, L.qNorm(), n * c.heads(), c.headDim(), c.rmsEps());
                be.rmsNorm(k, k, L.kNorm(), n * c.kvHeads(), c.headDim(), c.rmsEps());
            }
            be.rope(q, n, c.heads(), c.headDim(), pos0, model.rope());
            be.rope(k, n, c.kvHeads(), c.headDim(), pos0, model.rope());
            be.storeKV(cache, l, k, v, n, pos0);
            if (p) meter.other();
            be.attention(cache, l, q, n, pos0, c.heads(), c.kvHeads(), c.headDim(), scale, att);
            if (p) meter.attention(n, pos0, c.qDim(), cache.bytes() / Math.max(1, (long) cache.capacity() * c.layers()));
            be.matmul(L.wo(), att, n, tmp);
            if (p) meter.matmul(L.wo(), n);
            be.add(x, tmp, (long) n * c.dim());
            // feed-forward (SwiGLU)
            be.rmsNorm(x, xb, L.ffnNorm(), n, c.dim(), c.rmsEps());
            if (p) meter.other();
            be.matmul(L.wGate(), xb, n, hb);
            if (p) meter.matmul(L.wGate(), n);
            be.matmul(L.wUp(), xb, n, hb2);
            if (p) meter.matmul(L.wUp(), n);
            be.swiglu(hb, hb2, (long) n * c.ffDim());
            if (p) meter.other();
            be.matmul(L.wDown(), hb, n, tmp);
            if (p) meter.matmul(L.wDown(), n);
            be.add(x, tmp, (long) n * c.dim());
        }
        be.rmsNorm(x, x, w.outputNorm(), n, c.dim(), c.rmsEps());
        if (p) meter.emit();   // the vocabulary projection (readLogits) is left out of the chunk's op totals
        position += n;
    }

    /** Logits of the last {@code rows} positions of the current chunk into out[outOff ...]. */
    private void readLogits(int rows, float[][] out, int outOff) {
        int chunkRows = bufferRowsUsed;
        Buffer src = x;
        if (rows < chunkRows) {
            be.copy(x, (long) (chunkRows - rows) * c.dim(), xb, 0, (long) rows * c.dim());
            src = xb;
        }
        if (logits == null || logitRows < rows) {
            logits = be.allocate((long) rows * c.vocabSize());
            logitRows = rows;
        }
        be.matmul(model.weights().output(), src, rows, logits);
        for (int r = 0; r < rows; r++) {
            float[] row = new float[c.vocabSize()];
            be.read(logits, (long) r * c.vocabSize(), row, 0, row.length);
            out[outOff + r] = row;
        }
    }

    private int bufferRowsUsed;
    private final OpMeter meter = new OpMeter();

    private void ensureBuffers(int n) {
        bufferRowsUsed = n;
        if (n <= bufferRows) return;
        bufferRows = n;
        x = be.allocate((long) n * c.dim());
        xb = be.allocate((long) n * c.dim());
        tmp = be.allocate((long) n * c.dim());
        q = be.allocate((long) n * c.qDim());
        att = be.allocate((long) n * c.qDim());
        k = be.allocate((long) n * c.kvDim());
        v = be.allocate((long) n * c.kvDim());
        hb = be.allocate((long) n * c.ffDim());
        hb2 = be.allocate((long) n * c.ffDim());
    }

    @Override
    public void close() {
        cache.close();
    }
}
