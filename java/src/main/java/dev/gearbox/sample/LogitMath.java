package dev.gearbox.sample;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Whole-vocabulary reductions that run once per generated token (max, sum of exponentials), on
 * SIMD lanes: over 150k logits a scalar {@code Math.exp} loop alone costs about 2 ms a token.
 */
final class LogitMath {
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
}
