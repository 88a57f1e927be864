package dev.gearbox.tensor;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.MemorySegment;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The native Q8_0/Q4_0 and K-quant decode kernels against a float64 dequantize-then-dot reference. They
 * quantize x to 8 bits per 32-value block (step d = max|x|/127), so each product may be off by
 * |w|·d/2: the tolerance is that bound summed over the row, plus float rounding.
 */
class NativeCpuTest {

    @ParameterizedTest(name = "{0} {1}x{2} threads {3}")
    @CsvSource({"Q8_0, 1, 32, 1", "Q8_0, 37, 800, 2", "Q8_0, 64, 2048, 2", "Q4_0, 1, 32, 1", "Q4_0, 37, 800, 2", "Q4_0, 64, 2048, 2",
            "Q4_K, 1, 256, 1", "Q4_K, 37, 768, 2", "Q4_K, 64, 2048, 2", "Q2_K, 1, 256, 1", "Q2_K, 37, 768, 2", "Q2_K, 64, 2048, 2", "Q3_K, 1, 256, 1", "Q3_K, 37, 768, 2", "Q3_K, 64, 2048, 2",
            "Q5_K, 1, 256, 1", "Q5_K, 37, 768, 2", "Q5_K, 64, 2048, 2", "Q6_K, 1, 256, 1", "Q6_K, 37, 768, 2", "Q6_K, 64, 2048, 2"})
    void matchesReferenceWithinTheActivationQuantizationBound(GGMLType type, int rows, int cols, int threads) {
        Assumptions.assumeTrue(NativeCpu.available(), "native CPU kernels: " + NativeCpu.status());
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

            float[] row = new float[cols];
            for (int r = 0; r < rows; r++) {
                Quantizer.dequantizeRow(m, r, row, 0);
                double exact = 0, bound = 0;
                for (int b = 0; b < cols / 32; b++) {
                    double amax = 0;
                    for (int i = 32 * b; i < 32 * b + 32; i++) amax = Math.max(amax, Math.abs(x[i]));
                    for (int i = 32 * b; i < 32 * b + 32; i++) {
                        exact += (double) row[i] * x[i];
                        bound += Math.abs(row[i]) * (amax / 127 / 2) + 1e-5 * Math.abs(row[i] * x[i]);
                    }
                }
                assertThat(Math.abs(got[r] - exact)).as("row %d", r).isLessThanOrEqualTo(bound * 1.01 + 1e-6);
            }
            // and the same as Kernels.matmul decides to run for a decode step
            float[] viaKernels = new float[rows];
            Kernels.matmul(m, x, 1, viaKernels);
            assertThat(viaKernels).containsExactly(got);
        } finally {
            Parallel.setThreads(before);
        }
    }
}
