package dev.gearbox.sample;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Whole-vocabulary reductions that run once per generated token (max, sum of exponentials), on
 * SIMD lanes: over 150k logits a scalar {@code Math.exp} loop alone costs about 2 ms a token; and
 * the ensemble's combination of its members' distributions.
 */
public final class LogitMath {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    private LogitMath() {}

    static float max(float[] x) {
        int i = 0, bound = F.loopBound(x.length);
        float m = Float.NEGATIVE_INFINITY;
        if (bound > 0) {
            FloatVector acc = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
            for (; i < bound; i += F.length()) acc = acc.max(FloatVector.fromArray(F, x, i));
            m = acc.reduceLanes(VectorOperators.MAX);
        }
        for (; i < x.length; i++) m = Math.max(m, x[i]);
        return m;
    }

    /** Sum of exp(x[i] - shift), in float lanes added up in double. */
    static double sumExp(float[] x, float shift) {
        int i = 0, bound = F.loopBound(x.length);
        double sum = 0;
        if (bound > 0) {
            FloatVector s = FloatVector.broadcast(F, shift);
            FloatVector acc = FloatVector.zero(F);
            int blocks = 0;
            for (; i < bound; i += F.length()) {
                acc = acc.add(FloatVector.fromArray(F, x, i).sub(s).lanewise(VectorOperators.EXP));
                // Hand the lanes to the double total now and then so float accumulation stays accurate.
                if (++blocks == 64) {
                    sum += acc.reduceLanes(VectorOperators.ADD);
                    acc = FloatVector.zero(F);
                    blocks = 0;
                }
            }
            sum += acc.reduceLanes(VectorOperators.ADD);
        }
        for (; i < x.length; i++) sum += Math.exp(x[i] - shift);
        return sum;
    }

    /**
     * The ensemble's next-token scores: the weighted average of each member's log-probabilities
     * (log-softmax of its logits). Read as logits, their softmax is the members' normalised
     * weighted geometric mean.
     */
    public static float[] combineLogProbs(float[][] logits, double[] weights) {
        int v = logits[0].length;
        double[] acc = new double[v];
        for (int j = 0; j < logits.length; j++) {
            float[] l = logits[j];
            if (l.length != v) throw new IllegalArgumentException("ensemble members disagree on the vocabulary size: " + v + " vs " + l.length);
            // Scalar and in double on purpose: the ensemble's answers stay those calibration measured.
            double max = Double.NEGATIVE_INFINITY;
            for (float x : l) max = Math.max(max, x);
            double z = 0;
            for (float x : l) z += Math.exp(x - max);
            double lse = max + Math.log(z);
            for (int i = 0; i < v; i++) acc[i] += weights[j] * (l[i] - lse);
        }
        float[] out = new float[v];
        for (int i = 0; i < v; i++) out[i] = (float) acc[i];
        return out;
    }
}
