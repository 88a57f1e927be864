package dev.gearbox.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The fast kernels against a float64 dequantize-then-dot reference. The kernels keep the
 * activations in float32 (no 8-bit activation quantization), so the only differences are float32
 * rounding and summation order: the tolerance is 1e-4 * sum|w*x| per output.
 */
class KernelsTest {
    private static final int DEFAULT_THREADS = Parallel.threads();
    private static final Arena ARENA = Arena.ofShared();

    @org.junit.jupiter.api.BeforeAll
    static void vectorApiKernelsOnly() {
        Kernels.useNative = false; // the native int8 path has its own test and tolerance (NativeCpuTest)
    }

    @AfterAll
    static void restore() {
        Kernels.useNative = true;
        Parallel.setThreads(DEFAULT_THREADS);
        ARENA.close();
    }

    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        GGMLType[] types = {GGMLType.F32, GGMLType.F16, GGMLType.BF16, GGMLType.Q8_0, GGMLType.Q4_0,
            GGMLType.Q4_1, GGMLType.Q5_0, GGMLType.Q2_K, GGMLType.Q3_K, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K};
        for (GGMLType t : types) {
            int[] cols = switch (t.blockSize()) {
                case 1 -> new int[] {7, 33, 100, 768};
                case 32 -> new int[] {32, 96, 800};
                default -> new int[] {256, 768, 1280};
            };
            for (int c : cols) {
                out.add(Arguments.of(t, 1, c));
                out.add(Arguments.of(t, 37, c));
            }
        }
        return out.stream();
    }

    static WeightMatrix randomMatrix(GGMLType type, int rows, int cols, long seed, boolean offHeap) {
        Random rnd = new Random(seed);
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) w[i] = (float) (rnd.nextGaussian() * 0.05 + (i % 7 == 0 ? 0.02 : 0));
        byte[] bytes = Quantizer.quantize(type, w);
        MemorySegment seg = MemorySegment.ofArray(bytes);
        if (offHeap) {
            MemorySegment native_ = ARENA.allocate(bytes.length + 1, 64).asSlice(1, bytes.length); // unaligned on purpose
            native_.copyFrom(seg);
            seg = native_;
        }
        return new WeightMatrix(type, rows, cols, seg);
    }

    static float[] randomX(int n, int cols, long seed) {
        Random rnd = new Random(seed);
        float[] x = new float[n * cols];
        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
        return x;
    }

    private static void checkAgainstReference(WeightMatrix w, float[] x, int n, float[] out) {
        int rows = w.rows(), cols = w.cols();
        float[] row = new float[cols];
        for (int r = 0; r < rows; r++) {
            Quantizer.dequantizeRow(w, r, row, 0);
            for (int t = 0; t < n; t++) {
                double ref = 0, mag = 0;
                for (int c = 0; c < cols; c++) {
                    double p = (double) row[c] * x[t * cols + c];
                    ref += p;
                    mag += Math.abs(p);
                }
                assertThat((double) out[t * rows + r])
                        .as("%s %dx%d token %d row %d", w.type(), rows, cols, t, r)
                        .isCloseTo(ref, org.assertj.core.data.Offset.offset(1e-4 * mag + 1e-30));
            }
        }
    }

    @ParameterizedTest(name = "{0} rows={1} cols={2}")
    @MethodSource("cases")
    void matchesFloat64Reference(GGMLType type, int rows, int cols) {
        for (boolean offHeap : new boolean[] {false, true}) {
            WeightMatrix w = randomMatrix(type, rows, cols, rows * 31L + cols, offHeap);
            for (int n : new int[] {1, 5}) {
                float[] x = randomX(n, cols, n * 7L + cols);
                float[] out = new float[n * rows];
                Kernels.matmul(w, x, n, out);
                checkAgainstReference(w, x, n, out);
            }
        }
    }

    @ParameterizedTest(name = "{0} rows={1} cols={2}")
    @MethodSource("cases")
    void oneAndTwoThreadsAgree(GGMLType type, int rows, int cols) {
        WeightMatrix w = randomMatrix(type, rows * 5, cols, 99, true);
        for (int n : new int[] {1, 6}) {
            float[] x = randomX(n, cols, 5);
            float[] one = new float[n * w.rows()], two = new float[n * w.rows()];
            Parallel.setThreads(1);
            Kernels.matmul(w, x, n, one);
            Parallel.setThreads(2);
            Kernels.matmul(w, x, n, two);
            assertThat(two).containsExactly(one);
        }
        Parallel.setThreads(DEFAULT_THREADS);
    }

    @Test
    void prefillEqualsTokenByTokenDecode() {
        WeightMatrix w = randomMatrix(GGMLType.Q4_K, 21, 512, 3, true);
        int n = 11;
        float[] x = randomX(n, 512, 4);
        float[] batch = new float[n * 21];
        Kernels.matmul(w, x, n, batch);
        for (int t = 0; t < n; t++) {
            float[] xt = java.util.Arrays.copyOfRange(x, t * 512, (t + 1) * 512);
            float[] single = new float[21];
            Kernels.matmul(w, xt, 1, single);
            for (int r = 0; r < 21; r++) {
                assertThat(batch[t * 21 + r]).isCloseTo(single[r], org.assertj.core.data.Offset.offset(1e-4f * (Math.abs(single[r]) + 1)));
            }
        }
    }

    @Test
    void badShapesAreRejected() {
        WeightMatrix w = randomMatrix(GGMLType.Q8_0, 4, 64, 1, false);
        assertThatThrownBy(() -> Kernels.matmul(w, new float[63], 1, new float[4]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("x holds 63");
        assertThatThrownBy(() -> Kernels.matmul(w, new float[128], 2, new float[4]))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("out holds 4");
        assertThatThrownBy(() -> Kernels.matmul(w, new float[64], 0, new float[4]))
                .isInstanceOf(IllegalArgumentException.class);
        WeightMatrix iq2 = new WeightMatrix(GGMLType.IQ2_XXS, 1, 256, MemorySegment.ofArray(new byte[66]));
        assertThatThrownBy(() -> Kernels.matmul(iq2, new float[256], 1, new float[1]))
                .isInstanceOf(UnsupportedOperationException.class).hasMessageContaining("IQ2_XXS");
    }
}
