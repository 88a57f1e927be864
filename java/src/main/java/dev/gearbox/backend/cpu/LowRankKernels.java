package dev.gearbox.backend.cpu;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/** The dot product behind {@link CpuBackend#addLowRank}: short float rows, in vector lanes. */
final class LowRankKernels {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    private LowRankKernels() {}

    /** Σ a[ao + j] · b[bo + j] for j < n. */
    static float dot(float[] a, int ao, float[] b, int bo, int n) {
        FloatVector acc = FloatVector.zero(S);
        int j = 0, lanes = S.length();
        for (; j + lanes <= n; j += lanes) {
            acc = FloatVector.fromArray(S, a, ao + j).fma(FloatVector.fromArray(S, b, bo + j), acc);
        }
        float s = acc.reduceLanes(VectorOperators.ADD);
        for (; j < n; j++) s += a[ao + j] * b[bo + j];
        return s;
    }
}
