package dev.gearbox.model;

import dev.gearbox.backend.Backend;
import dev.gearbox.backend.Backend.Buffer;
import dev.gearbox.backend.Backend.Weight;
import dev.gearbox.backend.KVCache;
import dev.gearbox.model.Adaptation.Matrix;
import dev.gearbox.profile.OpMeter;
import dev.gearbox.profile.Profiler;

/**
 * The transformer's layers, written once against {@link Backend}: embedding, then per layer
 * RMSNorm, q/k/v (biases, q/k norms as the architecture has them), rope, KV store, causal
 * attention, output projection, residual, RMSNorm, SwiGLU feed-forward, residual. The rows may
 * belong to several sequences ({@link BatchStep}) or one ({@link Sequence}): the matrices run over
 * all rows at once, while rope, the KV store and attention run per segment at its own positions
 * over its own cache. A segment may run with an {@link Adaptation} (an SVF expert), applied after
 * the products of the matrices it changes ({@link #project}). Leaves the final hidden states,
 * before the output norm, in {@link #x}.
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
    // the current run's segments and their adaptations (see segments)
    private int rows;
    private int[] start, count;
    private Adaptation[] adapt;
    private Adaptation shared;
    private Buffer lowA, lowB;     // A·x (rows x r) and B·(A·x) (rows x widest) of a low-rank change
    private int lowRows, lowRank;

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
        run(tokens, caches, pos0, start, count, null, c.layers());
    }

    /** {@link #run} where segment i runs with {@code adapt[i]} (null: the base weights; the array may be null). */
    void run(int[] tokens, KVCache[] caches, int[] pos0, int[] start, int[] count, Adaptation[] adapt) {
        run(tokens, caches, pos0, start, count, adapt, c.layers());
    }

    /**
     * {@link #run} through the first {@code layers} blocks only (a gatekeeper that reads early
     * layers' hidden states); the caches then hold keys and values of those layers alone.
     */
    void run(int[] tokens, KVCache[] caches, int[] pos0, int[] start, int[] count, int layers) {
        run(tokens, caches, pos0, start, count, null, layers);
    }

    private void run(int[] tokens, KVCache[] caches, int[] pos0, int[] start, int[] count, Adaptation[] adapt, int layers) {
        if (layers < 1 || layers > c.layers()) throw new IllegalArgumentException("layers must be in 1.." + c.layers() + ", got " + layers);
        int rows = tokens.length, ns = caches.length;
        int widest = 0;
        for (int n : count) widest = Math.max(widest, n);
        ensureBuffers(rows, ns > 1 ? widest : 0);
        segments(adapt, start, count, rows);
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
            project(l, Matrix.Q, L.wq(), xb, q);
            project(l, Matrix.K, L.wk(), xb, k);
            project(l, Matrix.V, L.wv(), xb, v);
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
            project(l, Matrix.O, L.wo(), att, tmp);
            be.add(x, tmp, (long) rows * c.dim());
            // feed-forward (SwiGLU)
            be.rmsNorm(x, xb, L.ffnNorm(), rows, c.dim(), c.rmsEps());
            if (p) meter.other();
            project(l, Matrix.GATE, L.wGate(), xb, hb);
            project(l, Matrix.UP, L.wUp(), xb, hb2);
            be.swiglu(hb, hb2, (long) rows * c.ffDim());
            if (p) meter.other();
            project(l, Matrix.DOWN, L.wDown(), hb, tmp);
            be.add(x, tmp, (long) rows * c.dim());
        }
    }

    /**
     * {@code out = W · in} over every row, then each segment's adaptation of that matrix: when
     * every row shares one adaptation it runs in one go (its W' in place of W, or the low-rank
     * correction over all rows); in a mixed batch, the segments that change the matrix redo their
     * rows with W' or add their correction to them.
     */
    private void project(int layer, Matrix m, Weight w, Buffer in, Buffer out) {
        Adaptation.Change all = shared != null ? shared.change(layer, m) : null;
        if (all != null && !all.lowRank()) {
            matmul(all.exact(), in, 0, rows, out);
            return;
        }
        matmul(w, in, 0, rows, out);
        if (all != null) {
            correct(all, in, 0, rows, out);
        } else if (adapt != null && shared == null) {
            for (int i = 0; i < adapt.length; i++) {
                Adaptation.Change ch = adapt[i] == null ? null : adapt[i].change(layer, m);
                if (ch == null) continue;
                if (ch.lowRank()) correct(ch, in, start[i], count[i], out);
                else matmul(ch.exact(), in, start[i], count[i], out);
            }
        }
    }

    /** {@code out[r] += B · (A · in[r])} for rows r0..r0+n: the low-rank form of one change. */
    private void correct(Adaptation.Change ch, Buffer in, int r0, int n, Buffer out) {
        be.addLowRank(ch.a(), ch.b(), in, r0, n, lowA, lowB, out);
        if (profiling) meter.other();
    }

    private void matmul(Weight w, Buffer in, int r0, int n, Buffer out) {
        if (r0 == 0 && n == rows) be.matmul(w, in, n, out);
        else be.matmulRows(w, in, r0, n, out);
        if (profiling) meter.matmul(w.info(), n);
    }

    /**
     * This run's segments and their adaptations: {@link #shared} is the one every row uses (null
     * when none does, or when they differ), {@link #adapt} is per segment, null when no row has one.
     */
    private void segments(Adaptation[] a, int[] start, int[] count, int rows) {
        this.rows = rows;
        this.start = start;
        this.count = count;
        this.adapt = null;
        this.shared = null;
        if (a == null) return;
        boolean any = false, same = true;
        int rank = 0;
        for (Adaptation x : a) {
            if (x == null) continue;
            if (x.model() != model) throw new IllegalArgumentException("adaptation " + x.name() + " belongs to another model");
            any = true;
            rank = Math.max(rank, x.maxRank());
        }
        if (!any) return;
        for (Adaptation x : a) same &= x == a[0];
        this.adapt = a;
        this.shared = same ? a[0] : null;
        if (rank > 0 && (rows > lowRows || rank > lowRank)) {
            lowRows = Math.max(rows, lowRows);
            lowRank = Math.max(rank, lowRank);
            int widest = Math.max(Math.max(c.dim(), c.qDim()), Math.max(c.kvDim(), c.ffDim()));
            lowA = be.allocate((long) lowRows * lowRank);
            lowB = be.allocate((long) lowRows * widest);
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
