package dev.gearbox.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** Vector API loops over float arrays: attention's dot and axpy, SwiGLU, residual adds. */
final class AttentionKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private AttentionKernels() {}

    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        int i = 0;
        float sum = 0;
        if (n >= S.length()) {
            FloatVector acc = FloatVector.zero(S);
            for (; i <= n - S.length(); i += S.length()) {
                acc = FloatVector.fromArray(S, a, ao + i).fma(FloatVector.fromArray(S, b, bo + i), acc);
            }
            sum = acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < n; i++) sum += a[ao + i] * b[bo + i];
        return sum;
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
