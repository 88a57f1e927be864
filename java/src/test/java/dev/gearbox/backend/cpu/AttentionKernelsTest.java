package dev.gearbox.backend.cpu;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class AttentionKernelsTest {

    @Test
    void blockedKeyScoresEqualPlainDotProductsAtEveryLength() {
        Random rnd = new Random(5);
        int kvDim = 96, hd = 48, cap = 200;
        float[][] keys = new float[cap][kvDim];
        float[] kt = new float[(cap + AttentionKernels.KEY_BLOCK - 1) / AttentionKernels.KEY_BLOCK * AttentionKernels.KEY_BLOCK * kvDim];
        for (int p = 0; p < cap; p++) {
            for (int i = 0; i < kvDim; i++) {
                keys[p][i] = (float) rnd.nextGaussian();
                kt[AttentionKernels.keyIndex(p, i, kvDim)] = keys[p][i];
            }
        }
        float[] q = new float[3 * hd];
        for (int i = 0; i < q.length; i++) q[i] = (float) rnd.nextGaussian();
        float[] scores = new float[kt.length / kvDim];
        for (int ko : new int[] {0, hd}) {
            for (int len = 1; len <= cap; len++) {
                float max = AttentionKernels.scores(q, hd, kt, ko, kvDim, hd, len, 0.125f, scores);
                float want = Float.NEGATIVE_INFINITY;
                for (int p = 0; p < len; p++) {
                    double dot = 0;
                    for (int d = 0; d < hd; d++) dot += (double) q[hd + d] * keys[p][ko + d];
                    assertThat(scores[p]).as("len %d position %d head offset %d", len, p, ko).isCloseTo((float) (dot * 0.125), within(1e-4f));
                    want = Math.max(want, scores[p]);
                }
                assertThat(max).as("max over len %d", len).isEqualTo(want);
            }
        }
    }

    @Test
    void softmaxNumeratorsAndTheirSum() {
        float[] s = new float[37];
        for (int i = 0; i < s.length; i++) s[i] = i * 0.25f - 3;
        float max = s[s.length - 1];
        double want = 0;
        float[] expected = new float[s.length];
        for (int i = 0; i < s.length; i++) {
            expected[i] = (float) Math.exp(s[i] - max);
            want += expected[i];
        }
        float sum = AttentionKernels.expShiftSum(s, s.length, max);
        assertThat(sum).isCloseTo((float) want, within(1e-5f));
        for (int i = 0; i < s.length; i++) assertThat(s[i]).isCloseTo(expected[i], within(1e-6f));
    }
}
