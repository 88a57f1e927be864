package dev.gearbox.tensor;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.foreign.MemorySegment;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Quantizing then dequantizing Gaussian data stays within each format's expected error. */
class QuantizerRoundTripTest {

    /**
     * maxRelRms: bound on rms(error)/rms(x). A uniform quantizer with step s has rms error
     * s/sqrt(12); for N(0,1) blocks of 32 the range is about 4.2 sigma, which gives roughly
     * 0.08 for 4 bits, 0.04 for 5, 0.02 for 6 (Q6_K's 16-value blocks), 0.005 for Q8_0. The
     * 16-value blocks of Q2_K (range about 3.5 sigma over 3 steps: 0.29) and Q3_K (7 steps,
     * symmetric: 0.14) measure 0.32 and 0.15, the extra from their 4- and 6-bit scales. Bounds
     * below leave a margin for the 4/6/8-bit scales. maxStepsAbs bounds the worst single value in
     * units of the block's step (amax/levels), where the format makes that meaningful.
     */
    @ParameterizedTest
    @CsvSource({
        "F32, 0, 0",
        "F16, 0.0005, 0",
        "BF16, 0.004, 0",
        "Q8_0, 0.006, 0.51",
        "Q4_0, 0.10, 1.01",
        "Q4_1, 0.10, 0",
        "Q5_0, 0.05, 1.01",
        "Q2_K, 0.36, 0",
        "Q3_K, 0.17, 0",
        "Q4_K, 0.09, 0",
        "Q5_K, 0.045, 0",
        "Q6_K, 0.025, 0",
    })
    void errorIsBounded(GGMLType type, double maxRelRms, double maxSteps) {
        Random rnd = new Random(42);
        float[] x = new float[256 * 16];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian() * 0.02f;
        byte[] q = Quantizer.quantize(type, x);
        assertThat(q.length).isEqualTo(type.byteSize(x.length));
        float[] y = new float[x.length];
        Quantizer.dequantize(type, MemorySegment.ofArray(q), y, 0, x.length);
        double err = 0, ref = 0;
        for (int i = 0; i < x.length; i++) {
            err += (double) (x[i] - y[i]) * (x[i] - y[i]);
            ref += (double) x[i] * x[i];
        }
        double rel = Math.sqrt(err / ref);
        if (type == GGMLType.F32) {
            assertThat(y).containsExactly(x);
        } else {
            assertThat(rel).as("%s relative rms error", type).isLessThan(maxRelRms);
        }
        if (maxSteps > 0) {
            int levels = switch (type) { case Q8_0 -> 127; case Q4_0 -> 8; case Q5_0 -> 16; default -> 0; };
            for (int b = 0; b < x.length / 32; b++) {
                float amax = 0, worst = 0;
                for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[32 * b + j]));
                for (int j = 0; j < 32; j++) worst = Math.max(worst, Math.abs(x[32 * b + j] - y[32 * b + j]));
                // fp16 rounding of the scale adds up to 2^-11 of amax
                assertThat(worst).as("%s block %d worst error", type, b).isLessThanOrEqualTo((float) (maxSteps * amax / levels + amax * 0x1p-10));
            }
        }
    }

    @ParameterizedTest
    @CsvSource({"Q8_0", "Q4_0", "Q4_1", "Q5_0", "Q2_K", "Q3_K", "Q4_K", "Q5_K", "Q6_K"})
    void zerosAndConstantsSurvive(GGMLType type) {
        int n = type.blockSize() * 2;
        float[] zeros = new float[n];
        float[] y = new float[n];
        Quantizer.dequantize(type, MemorySegment.ofArray(Quantizer.quantize(type, zeros)), y, 0, n);
        for (float v : y) assertThat(Math.abs(v)).isEqualTo(0f); // -0.0 from a 0/-8 scale is fine
        float[] ones = new float[n];
        java.util.Arrays.fill(ones, 0.75f);
        Quantizer.dequantize(type, MemorySegment.ofArray(Quantizer.quantize(type, ones)), y, 0, n);
        for (float v : y) assertThat(v).isCloseTo(0.75f, org.assertj.core.data.Offset.offset(0.75f * 0.02f));
    }
}
