package dev.gearbox.tensor;

import dev.gearbox.Require;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The native kernels (Q8_0/Q4_0 and K-quant decode matvecs, the Q8_0/Q4_0/K-quant prefill products)
 * against a float64 dequantize-then-dot reference. They quantize x to 8 bits per 32-value block
 * (step d = max|x|/127), so each product may be off by |w|·d/2: the tolerance is that bound summed
 * over the row, plus float rounding.
 */
class NativeCpuTest {

    @ParameterizedTest(name = "{0} {1}x{2} threads {3}")
    @CsvSource({"Q8_0, 1, 32, 1", "Q8_0, 37, 800, 2", "Q8_0, 64, 2048, 2", "Q4_0, 1, 32, 1", "Q4_0, 37, 800, 2", "Q4_0, 64, 2048, 2",
            "Q4_K, 1, 256, 1", "Q4_K, 37, 768, 2", "Q4_K, 64, 2048, 2", "Q2_K, 1, 256, 1", "Q2_K, 37, 768, 2", "Q2_K, 64, 2048, 2", "Q3_K, 1, 256, 1", "Q3_K, 37, 768, 2", "Q3_K, 64, 2048, 2",
            "Q5_K, 1, 256, 1", "Q5_K, 37, 768, 2", "Q5_K, 64, 2048, 2", "Q6_K, 1, 256, 1", "Q6_K, 37, 768, 2", "Q6_K, 64, 2048, 2"})
    void matchesReferenceWithinTheActivationQuantizationBound(GGMLType type, int rows, int cols, int threads) {
        Require.nativeCpu();
        int before = Parallel.threads();
        Parallel.setThreads(threads);
        try {
            Random rnd = new Random(rows * 31L + cols);
            float[] w = new float[rows * cols];
            for (int i = 0; i < w.length; i++) w[i] = (float) (rnd.nextGaussian() * 0.05);
            float[] x = new float[cols];
            for (int i = 0; i < cols; i++) x[i] = (float) (rnd.nextGaussian() * (i % 5 == 0 ? 3 : 1));
            WeightMatrix m = new WeightMatrix(type, rows, cols, MemorySegment.ofArray(Quantizer.quantize(type, w)));

            float[] got = new float[rows];
            NativeCpu.matvec(m, x, got);

            assertWithinQuantizationBound(m, x, 0, got, 0);
            // and the same as Kernels.matmul decides to run for a decode step
            float[] viaKernels = new float[rows];
            Kernels.matmul(m, x, 1, viaKernels);
            assertThat(viaKernels).containsExactly(got);
        } finally {
            Parallel.setThreads(before);
        }
    }

    @ParameterizedTest(name = "{0} {1}x{2} n={3} threads {4}")
    @CsvSource({"Q8_0, 1, 32, 2, 1", "Q8_0, 17, 96, 5, 2", "Q8_0, 37, 800, 7, 2", "Q8_0, 64, 2048, 8, 2", "Q8_0, 100, 768, 13, 1",
        "Q4_0, 1, 32, 3, 1", "Q4_0, 17, 96, 5, 2", "Q4_0, 37, 800, 7, 2", "Q4_0, 64, 2048, 8, 2", "Q4_0, 100, 768, 13, 1",
        "Q4_K, 1, 256, 2, 1", "Q4_K, 17, 512, 5, 2", "Q4_K, 37, 768, 7, 2", "Q4_K, 100, 2048, 13, 1",
        "Q5_K, 1, 256, 3, 1", "Q5_K, 17, 512, 5, 2", "Q5_K, 37, 768, 7, 2", "Q5_K, 100, 2048, 13, 1"})
    void prefillMatchesReferenceAndTheDecodeKernel(GGMLType type, int rows, int cols, int n, int threads) {
        Require.nativeCpu();
        int before = Parallel.threads();
        Parallel.setThreads(threads);
        try {
            Random rnd = new Random(rows * 131L + cols * 7L + n);
            float[] w = new float[rows * cols];
            for (int i = 0; i < w.length; i++) w[i] = (float) (rnd.nextGaussian() * 0.05);
            float[] x = new float[n * cols];
            for (int i = 0; i < x.length; i++) x[i] = (float) (rnd.nextGaussian() * (i % 5 == 0 ? 3 : 1));
            WeightMatrix m = new WeightMatrix(type, rows, cols, MemorySegment.ofArray(Quantizer.quantize(type, w)));

            float[] got = new float[n * rows];
            NativeCpu.matmul(m, x, n, got);
            float[] viaKernels = new float[n * rows];
            Kernels.matmul(m, x, n, viaKernels);
            assertThat(viaKernels).containsExactly(got);

            float[] row = new float[cols], xt = new float[cols], decode = new float[rows];
            for (int t = 0; t < n; t++) {
                assertWithinQuantizationBound(m, x, t * cols, got, t * rows);
                // Both quantize x the same way, so they differ only by float summation order.
                System.arraycopy(x, t * cols, xt, 0, cols);
                NativeCpu.matvec(m, xt, decode);
                for (int r = 0; r < rows; r++) {
                    Quantizer.dequantizeRow(m, r, row, 0);
                    double mag = 0;
                    for (int c = 0; c < cols; c++) mag += Math.abs((double) row[c] * xt[c]);
                    assertThat((double) Math.abs(got[t * rows + r] - decode[r])).as("token %d row %d", t, r).isLessThanOrEqualTo(1e-5 * mag + 1e-6);
                }
            }
        } finally {
            Parallel.setThreads(before);
        }
    }

    /**
     * The prefill products of the 16-value sub-block types (Q2_K, Q3_K, Q6_K: int8 tiles with the
     * halves scaled in int32 and unsigned activations), checked as the test above checks the others.
     */
    @ParameterizedTest(name = "{0} {1}x{2} n={3} threads {4}")
    @CsvSource({"Q6_K, 1, 256, 2, 1", "Q6_K, 17, 512, 5, 2", "Q6_K, 37, 768, 7, 2", "Q6_K, 100, 2048, 13, 1",
        "Q3_K, 1, 256, 3, 1", "Q3_K, 17, 512, 5, 2", "Q3_K, 37, 768, 7, 2", "Q3_K, 100, 2048, 13, 1",
        "Q2_K, 1, 256, 2, 1", "Q2_K, 17, 512, 5, 2", "Q2_K, 37, 768, 7, 2", "Q2_K, 100, 2048, 13, 1"})
    void sixteenValueSubBlockPrefillMatchesReferenceAndTheDecodeKernel(GGMLType type, int rows, int cols, int n, int threads) {
        prefillMatchesReferenceAndTheDecodeKernel(type, rows, cols, n, threads);
    }

    /** got[go + r] against the float64 product of row r and x[xo, xo + cols), for every row. */
    private static void assertWithinQuantizationBound(WeightMatrix m, float[] x, int xo, float[] got, int go) {
        int rows = m.rows(), cols = m.cols();
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            Quantizer.dequantizeRow(m, r, row, 0);
            double exact = 0, bound = 0;
            for (int b = 0; b < cols / 32; b++) {
                double amax = 0;
                for (int i = 32 * b; i < 32 * b + 32; i++) amax = Math.max(amax, Math.abs(x[xo + i]));
                for (int i = 32 * b; i < 32 * b + 32; i++) {
                    exact += (double) row[i] * x[xo + i];
                    bound += Math.abs(row[i]) * (amax / 127 / 2) + 1e-5 * Math.abs(row[i] * x[xo + i]);
                }
            }
            assertThat(Math.abs(got[go + r] - exact)).as("row %d", r).isLessThanOrEqualTo(bound * 1.01 + 1e-6);
        }
    }
}
