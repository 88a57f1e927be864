package dev.gearbox.model;

import dev.gearbox.backend.Backend;
import dev.gearbox.backend.Backend.Buffer;

import dev.gearbox.profile.OpMeter;
import dev.gearbox.profile.Profiler;

import java.util.IdentityHashMap;
import java.util.List;

/**
 * One forward pass over several sequences at once, for continuous batching: the rows of every
 * sequence's new tokens are concatenated, so each weight matrix is read once per step for the whole
 * batch ([rows × dim] times the matrix), while rope positions, KV stores and attention run per
 * sequence over its own cache. A sequence may bring one token (decode) or a chunk of its prompt
 * (prefill) in the same step. Written once against {@link Backend}, like {@link Sequence}.
 *
 * <p>Keeps its activation buffers between steps; not thread-safe (one executor lane owns one).
 */
public final class BatchStep {
    private final Model model;
    private final ModelConfig c;
    private final Backend be;

    private int rowCap, seqRowCap, seqCap;
    private Buffer x, xb, tmp, q, att, k, v, hb, hb2;
    private Buffer qs, ks, vs, as;       // one sequence's rows, for rope/store/attention at its own positions
    private Buffer last, logits;         // the last row of each sequence, and their logits
    private final OpMeter meter = new OpMeter();

    BatchStep(Model model) {
        this.model = model;
        this.c = model.config();
        this.be = model.backend();
    }

    /**
     * Feeds {@code newTokens[i]} to {@code seqs.get(i)} (after what it holds) and returns, per
     * sequence, the logits after its last new token. Every sequence must belong to this model,
     * appear once, bring at least one token and have room for them.
     */
    public float[][] step(List<Sequence> seqs, int[][] newTokens) {
        int ns = seqs.size();
        if (ns == 0) throw new IllegalArgumentException("a batched step needs at least one sequence");
        if (newTokens.length != ns) throw new IllegalArgumentException(ns + " sequences but " + newTokens.length + " token arrays");
        IdentityHashMap<Sequence, Boolean> seen = new IdentityHashMap<>();
        int rows = 0, widest = 0;
        for (int i = 0; i < ns; i++) {
            Sequence s = seqs.get(i);
            int[] t = newTokens[i];
            if (s.model() != model) throw new IllegalArgumentException("sequence " + i + " belongs to another model");
            if (seen.put(s, Boolean.TRUE) != null) throw new IllegalArgumentException("sequence " + i + " appears twice in one step");
            if (t == null || t.length == 0) throw new IllegalArgumentException("sequence " + i + " has no new tokens");
            if (s.position() + t.length > s.capacity()) {
                throw new IllegalArgumentException("context full: sequence " + i + " holds " + s.position() + " positions + " + t.length
                        + " new tokens exceeds its context size " + s.capacity());
            }
            for (int id : t) {
                if (id < 0 || id >= c.vocabSize()) throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + c.vocabSize() + ")");
            }
            rows += t.length;
            widest = Math.max(widest, t.length);
        }
        ensureBuffers(rows, widest, ns);

        int[] all = new int[rows];
        int[] start = new int[ns];
        int[] pos0 = new int[ns];
        for (int i = 0, r = 0; i < ns; i++) {
            start[i] = r;
            pos0[i] = seqs.get(i).position();
            System.arraycopy(newTokens[i], 0, all, r, newTokens[i].length);
            r += newTokens[i].length;
        }

        Weights w = model.weights();
        float scale = (float) (1.0 / Math.sqrt(c.headDim()));
        int qd = c.qDim(), kvd = c.kvDim();
        boolean p = Profiler.active();   // one read per step: op laps cost nothing while off
        if (p) meter.begin();
        be.embed(w.tokenEmbedding(), all, x);
        for (int l = 0; l < c.layers(); l++) {
            Weights.Layer L = w.layers()[l];
            be.rmsNorm(x, xb, L.attnNorm(), rows, c.dim(), c.rmsEps());
            if (p) meter.other();
            be.matmul(L.wq(), xb, rows, q);
            if (p) meter.matmul(L.wq(), rows);
            be.matmul(L.wk(), xb, rows, k);
            if (p) meter.matmul(L.wk(), rows);
            be.matmul(L.wv(), xb, rows, v);
            if (p) meter.matmul(L.wv(), rows);
            if (L.bq() != null) {
                be.addBias(q, L.bq(), rows, qd);
                be.addBias(k, L.bk(), rows, kvd);
                be.addBias(v, L.bv(), rows, kvd);
            }
            if (L.qNorm() != null) {
                be.rmsNorm(q, q, L.qNorm(), rows * c.heads(), c.headDim(), c.rmsEps());
                be.rmsNorm(k, k, L.kNorm(), rows * c.kvHeads(), c.headDim(), c.rmsEps());
            }
            for (int i = 0; i < ns; i++) {
                int n = newTokens[i].length, r0 = start[i];
                Sequence s = seqs.get(i);
                be.copy(q, (long) r0 * qd, qs, 0, (long) n * qd);
                be.copy(k, (long) r0 * kvd, ks, 0, (long) n * kvd);
                be.copy(v, (long) r0 * kvd, vs, 0, (long) n * kvd);
                be.rope(qs, n, c.heads(), c.headDim(), pos0[i], model.rope());
                be.rope(ks, n, c.kvHeads(), c.headDim(), pos0[i], model.rope());
                be.storeKV(s.cache(), l, ks, vs, n, pos0[i]);
                if (p) meter.other();
                be.attention(s.cache(), l, qs, n, pos0[i], c.heads(), c.kvHeads(), c.headDim(), scale, as);
                if (p) meter.attention(n, pos0[i], qd, s.cache().bytes() / Math.max(1, (long) s.capacity() * c.layers()));
                be.copy(as, 0, att, (long) r0 * qd, (long) n * qd);
            }
            if (p) meter.other();
            be.matmul(L.wo(), att, rows, tmp);
            if (p) meter.matmul(L.wo(), rows);
            be.add(x, tmp, (long) rows * c.dim());
            be.rmsNorm(x, xb, L.ffnNorm(), rows, c.dim(), c.rmsEps());
            if (p) meter.other();
            be.matmul(L.wGate(), xb, rows, hb);
            if (p) meter.matmul(L.wGate(), rows);
            be.matmul(L.wUp(), xb, rows, hb2);
            if (p) meter.matmul(L.wUp(), rows);
            be.swiglu(hb, hb2, (long) rows * c.ffDim());
            if (p) meter.other();
            be.matmul(L.wDown(), hb, rows, tmp);
            if (p) meter.matmul(L.wDown(), rows);
            be.add(x, tmp, (long) rows * c.dim());
        }
        // Only each sequence's last row needs the output norm and the vocabulary projection.
        for (int i = 0; i < ns; i++) {
            int lastRow = start[i] + newTokens[i].length - 1;
            be.copy(x, (long) lastRow * c.dim(), last, (long) i * c.dim(), c.dim());
        }
        be.rmsNorm(last, last, w.outputNorm(), ns, c.dim(), c.rmsEps());
        if (p) meter.other();
        be.matmul(w.output(), last, ns, logits);
        if (p) meter.matmul(w.output(), ns);
        float[][] out = new float[ns][c.vocabSize()];
        for (int i = 0; i < ns; i++) {
            be.read(logits, (long) i * c.vocabSize(), out[i], 0, c.vocabSize());
            seqs.get(i).advance(newTokens[i].length);
        }
        if (p) meter.emit();
        return out;
    }

    private void ensureBuffers(int rows, int widest, int ns) {
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
        if (widest > seqRowCap) {
            seqRowCap = widest;
            qs = be.allocate((long) widest * c.qDim());
            as = be.allocate((long) widest * c.qDim());
            ks = be.allocate((long) widest * c.kvDim());
            vs = be.allocate((long) widest * c.kvDim());
        }
        if (ns > seqCap) {
            seqCap = ns;
            last = be.allocate((long) ns * c.dim());
            logits = be.allocate((long) ns * c.vocabSize());
        }
    }
}
