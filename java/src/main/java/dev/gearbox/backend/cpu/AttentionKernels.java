package dev.gearbox.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Vector API loops over float arrays: attention's scores, softmax and axpy, SwiGLU, residual adds. */
final class AttentionKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private AttentionKernels() {}

    /** Positions per block of the CPU key cache: one vector of lanes. */
    static final int KEY_BLOCK = S.length();

    /** Index of element i of key p in a blocked key cache of rows of kvDim (see {@link #scores}). */
    static int keyIndex(int p, int i, int kvDim) {
        return ((p / KEY_BLOCK) * kvDim + i) * KEY_BLOCK + p % KEY_BLOCK;
    }

    /**
     * {@code scores[p] = scale * dot(q[qo .. qo+hd), key p)} for positions {@code p < len}, keys
     * stored in blocks of {@link #KEY_BLOCK} positions, each block a kvDim x KEY_BLOCK tile (element
     * i of key p at {@link #keyIndex}), this head's elements from {@code ko}. A key dimension is one
     * broadcast FMA into lanes that are positions, so there is no horizontal sum per score, the
     * tile is read front to back, and four blocks share each broadcast. {@code scores} must hold
     * len rounded up to a block. Returns the largest score.
     */
    static float scores(float[] q, int qo, float[] kt, int ko, int kvDim, int hd, int len, float scale, float[] scores) {
        final int L = KEY_BLOCK, tile = kvDim * L;
        int blocks = (len + L - 1) / L, b = 0;
        FloatVector vmax = FloatVector.broadcast(S, Float.NEGATIVE_INFINITY);
        int full = len / L; // blocks whose every position counts for the max
        for (; b + 4 <= blocks; b += 4) {
            FloatVector a0 = FloatVector.zero(S), a1 = a0, a2 = a0, a3 = a0;
            for (int d = 0, o = b * tile + ko * L; d < hd; d++, o += L) {
                FloatVector qd = FloatVector.broadcast(S, q[qo + d]);
                a0 = FloatVector.fromArray(S, kt, o).fma(qd, a0);
                a1 = FloatVector.fromArray(S, kt, o + tile).fma(qd, a1);
                a2 = FloatVector.fromArray(S, kt, o + 2 * tile).fma(qd, a2);
                a3 = FloatVector.fromArray(S, kt, o + 3 * tile).fma(qd, a3);
            }
            a0.mul(scale).intoArray(scores, b * L);
            a1.mul(scale).intoArray(scores, (b + 1) * L);
            a2.mul(scale).intoArray(scores, (b + 2) * L);
            a3.mul(scale).intoArray(scores, (b + 3) * L);
        }
        for (; b < blocks; b++) {
            FloatVector a = FloatVector.zero(S);
            for (int d = 0, o = b * tile + ko * L; d < hd; d++, o += L) a = FloatVector.fromArray(S, kt, o).fma(FloatVector.broadcast(S, q[qo + d]), a);
            a.mul(scale).intoArray(scores, b * L);
        }
        for (int c = 0; c < full; c++) vmax = vmax.max(FloatVector.fromArray(S, scores, c * L));
        float max = vmax.reduceLanes(VectorOperators.MAX);
        for (int p = full * L; p < len; p++) max = Math.max(max, scores[p]);
        return max;
    }

    /**
     * s[i] = exp(s[i] - max) for i < n, returning their sum: a softmax's numerators. In vector lanes
     * (SVML's exp on x86): a scalar Math.exp per score was most of a long prefill's attention time.
     */
    static float expShiftSum(float[] s, int n, float max) {
        int i = 0;
        float sum = 0;
        if (n >= S.length()) {
            FloatVector vmax = FloatVector.broadcast(S, max), acc = FloatVector.zero(S);
            for (; i <= n - S.length(); i += S.length()) {
                FloatVector e = FloatVector.fromArray(S, s, i).sub(vmax).lanewise(VectorOperators.EXP);
                e.intoArray(s, i);
                acc = acc.add(e);
            }
            sum = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) {
            float e = (float) Math.exp(s[i] - max);
            s[i] = e;
            sum += e;
        }
        return sum;
    }

    /** y[yo..] += alpha * x[xo..] */
    static void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        int i = 0;
        if (n >= S.length()) {
            FloatVector va = FloatVector.broadcast(S, alpha);
            for (; i <= n - S.length(); i += S.length()) {
                FloatVector.fromArray(S, x, xo + i).fma(va, FloatVector.fromArray(S, y, yo + i)).intoArray(y, yo + i);
            }
        }
        for (; i < n; i++) y[yo + i] += alpha * x[xo + i];
    }

    /** g[i] = silu(g[i]) * u[i]; the vector exp is SVML's on x86, far cheaper than Math.exp per element. */
    static void swiglu(float[] g, float[] u, int n) {
        int i = 0;
        for (; i <= n - S.length(); i += S.length()) {
            FloatVector x = FloatVector.fromArray(S, g, i);
            FloatVector sig = x.neg().lanewise(VectorOperators.EXP).add(1f);
            x.div(sig).mul(FloatVector.fromArray(S, u, i)).intoArray(g, i);
        }
        for (; i < n; i++) {
            float x = g[i];
            g[i] = x / (1f + (float) Math.exp(-x)) * u[i];
        }
    }

    /** a[i] += b[i] */
    static void add(float[] a, float[] b, int n) {
        int i = 0;
        for (; i <= n - S.length(); i += S.length()) {
            FloatVector.fromArray(S, a, i).add(FloatVector.fromArray(S, b, i)).intoArray(a, i);
        }
        for (; i < n; i++) a[i] += b[i];
    }
}
