package dev.gearbox.model;

import dev.gearbox.backend.Backend;
import dev.gearbox.backend.Backend.Buffer;
import dev.gearbox.backend.KVCache;
import dev.gearbox.profile.OpMeter;
import dev.gearbox.profile.Profiler;

/**
 * The transformer's layers, written once against {@link Backend}: embedding, then per layer
 * RMSNorm, q/k/v (biases, q/k norms as the architecture has them), rope, KV store, causal
 * attention, output projection, residual, RMSNorm, SwiGLU feed-forward, residual. The rows may
 * belong to several sequences ({@link BatchStep}) or one ({@link Sequence}): the matrices run over
 * all rows at once, while rope, the KV store and attention run per segment at its own positions
 * over its own cache. Leaves the final hidden states, before the output norm, in {@link #x}.
 *
 * <p>Keeps its activation buffers between calls; not thread-safe.
 */
final class ForwardPass {
    private final Model model;
    private final ModelConfig c;
    private final Backend be;

    private int rowCap, segRowCap;
    /** Hidden states of every row after {@link #run}; {@code xb} is free scratch of the same size. */
    Buffer x, xb;
    private Buffer tmp, q, att, k, v, hb, hb2;
    private Buffer qs, ks, vs, as; // one segment's rows, when there are several

    /** Per-op time, bytes and FLOPs of the last run, when profiling was on; the caller laps its own ops and emits. */
    final OpMeter meter = new OpMeter();
    /** Whether the last {@link #run} recorded op laps (read once per run: nothing is timed while profiling is off). */
    boolean profiling;

    ForwardPass(Model model, Backend be) {
        this.model = model;
        this.c = model.config();
        this.be = be;
    }

    /**
     * Runs {@code tokens} through the layers. Segment i is rows [start[i], start[i] + count[i]),
     * fed to the sequence whose cache is {@code caches[i]} at positions pos0[i], pos0[i] + 1, ...
     */
    void run(int[] tokens, KVCache[] caches, int[] pos0, int[] start, int[] count) {
        run(tokens, caches, pos0, start, count, c.layers());
    }

    /**
     * {@link #run} through the first {@code layers} blocks only (a gatekeeper that reads early
     * layers' hidden states); the caches then hold keys and values of those layers alone.
     */
    void run(int[] tokens, KVCache[] caches, int[] pos0, int[] start, int[] count, int layers) {
        if (layers < 1 || layers > c.layers()) throw new IllegalArgumentException("layers must be in 1.." + c.layers() + ", got " + layers);
        int rows = tokens.length, ns = caches.length;
        int widest = 0;
        for (int n : count) widest = Math.max(widest, n);
        ensureBuffers(rows, ns > 1 ? widest : 0);
        Weights w = model.weights();
        float scale = (float) (1.0 / Math.sqrt(c.headDim()));
        int qd = c.qDim(), kvd = c.kvDim();
        boolean p = profiling = Profiler.active();
        if (p) meter.begin();

        be.embed(w.tokenEmbedding(), tokens, x);
        for (int l = 0; l < layers; l++) {
            Weights.Layer L = w.layers()[l];
            // attention
            be.rmsNorm(x, xb, L.attnNorm(), rows, c.dim(), c.rmsEps());
            if (p) meter.other();
            be.matmul(L.wq(), xb, rows, q);
            if (p) meter.matmul(L.wq().info(), rows);
            be.matmul(L.wk(), xb, rows, k);
            if (p) meter.matmul(L.wk().info(), rows);
            be.matmul(L.wv(), xb, rows, v);
            if (p) meter.matmul(L.wv().info(), rows);
            if (L.bq() != null) {
                be.addBias(q, L.bq(), rows, qd);
                be.addBias(k, L.bk(), rows, kvd);
                be.addBias(v, L.bv(), rows, kvd);
            }
            if (L.qNorm() != null) {
                be.rmsNorm(q, q, L.qNorm(), rows * c.heads(), c.headDim(), c.rmsEps());
                be.rmsNorm(k, k, L.kNorm(), rows * c.kvHeads(), c.headDim(), c.rmsEps());
            }
            if (ns == 1) {
                attend(caches[0], l, pos0[0], count[0], q, k, v, att, scale);
            } else {
                for (int i = 0; i < ns; i++) {
                    int n = count[i], r0 = start[i];
                    be.copy(q, (long) r0 * qd, qs, 0, (long) n * qd);
                    be.copy(k, (long) r0 * kvd, ks, 0, (long) n * kvd);
                    be.copy(v, (long) r0 * kvd, vs, 0, (long) n * kvd);
                    attend(caches[i], l, pos0[i], n, qs, ks, vs, as, scale);
                    be.copy(as, 0, att, (long) r0 * qd, (long) n * qd);
                }
            }
            if (p) meter.other();
            be.matmul(L.wo(), att, rows, tmp);
            if (p) meter.matmul(L.wo().info(), rows);
            be.add(x, tmp, (long) rows * c.dim());
            // feed-forward (SwiGLU)
            be.rmsNorm(x, xb, L.ffnNorm(), rows, c.dim(), c.rmsEps());
            if (p) meter.other();
            be.matmul(L.wGate(), xb, rows, hb);
            if (p) meter.matmul(L.wGate().info(), rows);
            be.matmul(L.wUp(), xb, rows, hb2);
            if (p) meter.matmul(L.wUp().info(), rows);
            be.swiglu(hb, hb2, (long) rows * c.ffDim());
            if (p) meter.other();
            be.matmul(L.wDown(), hb, rows, tmp);
            if (p) meter.matmul(L.wDown().info(), rows);
            be.add(x, tmp, (long) rows * c.dim());
        }
    }

    /** Rope at the segment's positions, its keys and values into its cache, causal attention over it. */
    private void attend(KVCache cache, int layer, int pos0, int n, Buffer q, Buffer k, Buffer v, Buffer out, float scale) {
        be.rope(q, n, c.heads(), c.headDim(), pos0, model.rope());
        be.rope(k, n, c.kvHeads(), c.headDim(), pos0, model.rope());
        be.storeKV(cache, layer, k, v, n, pos0);
        if (profiling) meter.other();
        be.attention(cache, layer, q, n, pos0, c.heads(), c.kvHeads(), c.headDim(), scale, out);
        if (profiling) meter.attention(n, pos0, c.qDim(), cache.bytes() / Math.max(1, (long) cache.capacity() * c.layers()));
    }

    private void ensureBuffers(int rows, int segmentRows) {
        if (rows > rowCap) {
            rowCap = rows;
            x = be.allocate((long) rows * c.dim());
            xb = be.allocate((long) rows * c.dim());
            tmp = be.allocate((long) rows * c.dim());
            q = be.allocate((long) rows * c.qDim());
            att = be.allocate((long) rows * c.qDim());
            k = be.allocate((long) rows * c.kvDim());
            v = be.allocate((long) rows * c.kvDim());
            hb = be.allocate((long) rows * c.ffDim());
            hb2 = be.allocate((long) rows * c.ffDim());
        }
        if (segmentRows > segRowCap) {
            segRowCap = segmentRows;
            qs = be.allocate((long) segmentRows * c.qDim());
            as = be.allocate((long) segmentRows * c.qDim());
            ks = be.allocate((long) segmentRows * c.kvDim());
            vs = be.allocate((long) segmentRows * c.kvDim());
        }
    }
}
