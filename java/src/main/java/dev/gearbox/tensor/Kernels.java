package dev.gearbox.tensor;

import java.lang.foreign.MemorySegment;

/**
 * Matrix products of quantized weights with F32 activations.
 *
 * <p>Q8_0, Q4_0 and the K-quants Q2_K..Q6_K (decode and prefill) go to native
 * kernels ({@link NativeCpu}, {@code native/cpu}) when the library is built and the CPU has AVX-512 VNNI:
 * they quantize the activations to int8 per 32-value block, as llama.cpp does, and multiply bytes
 * with {@code vpdpbusd}. Decode ({@code n == 1}) is a matrix-vector product bound by reading the
 * weights (Q4_0 from a repacked copy, 16 rows per vector; K-quants one sub-block scale per 8 or 4
 * int32 lanes). Prefill ({@code n > 1}) repacks a tile of 16 weight rows so that one int32 lane holds one
 * row (per 32-value block, or per sub-block for Q4_K/Q5_K, whose mins come off with one more
 * multiply-add; Q2_K/Q3_K/Q6_K scale their two 16-value halves in int32), then runs every token over the tile, 4 at a time: each weight load serves 4 tokens
 * and the per-block scaling is one multiply-add per 16 outputs. Measured end to end (README, llama110m, 2
 * threads) this raised pp512 about 2x over the float-lane kernels below.
 *
 * <p>Everything else (other types, no library or VNNI, {@link #setNativeKernels} off) keeps float
 * activations. Decode has a fused kernel per type ({@link DotKernels}) that reads blocks straight
 * from the {@link MemorySegment}, widens the small integers to float lanes and multiplies them into
 * the activations, scaling once per block. Prefill decodes a tile of four weight rows into a small
 * per-thread buffer ({@link RowDecoders}), then multiplies that tile with four tokens at a time
 * ({@link FloatTiles}), so every decoded weight is used by up to n tokens and the weights are read
 * from memory once per call. The whole matrix is never dequantized.
 *
 * <p>Why those keep float lanes rather than int8 activations: the Vector API has no byte dot
 * product; an int8 x int8 product has to widen both sides to shorts, multiply, widen the products
 * to ints and add, which is as many vector instructions per weight as widening the weight bytes to
 * floats and using one FMA. Measured with {@code KernelBench --int8} (Q8_0 x Q8_0 including
 * quantizing x, one thread, AVX-512 EPYC): 12.3 / 12.6 / 12.7 GB/s against 12.8 / 14.3 / 11.1 GB/s
 * for the float-lane kernel on the 2048x768 / 768x2048 / 32000x768 shapes, i.e. no consistent gain,
 * and float lanes add no activation quantization error. 256-bit vectors on the same machine were
 * equal or slower than 512-bit ones, so the widest preferred shape is used
 * ({@code -Dgearbox.vectorBits=256} forces the AVX2 path, e.g. for testing it).
 */
public final class Kernels {
    private Kernels() {}

    /** Tests turn the native int8 kernels off to check the Vector API kernels at their own tolerance. */
    static volatile boolean useNative = true;

    /**
     * Turns the native int8 kernels (decode and prefill) on or off (they are on when available).
     * Off, every product keeps float activations, so a decode step and a batched step give the
     * same bits: tests that compare the two paths, and benchmarks that compare the kernels, use this.
     */
    public static void setNativeKernels(boolean on) {
        useNative = on;
    }

    /** True when a decode step (one token) of {@code type} weights runs the native int8-activation kernels. */
    public static boolean nativeDecodes(GGMLType type) {
        return useNative && NativeCpu.handlesDecode(type);
    }

    /** Whether the native CPU library is built and usable on this machine. */
    public static boolean nativeAvailable() {
        return NativeCpu.available();
    }

    /** Whether the native library has decode kernels for {@code type} at all (built here or not). */
    public static boolean hasNativeDecodeKernel(GGMLType type) {
        return NativeCpu.hasDecodeKernel(type);
    }

    /** Which native kernels are available (Q8_0, Q4_0, K-quants), for logs and bench output. */
    public static String nativeStatus() {
        return NativeCpu.status();
    }

    /**
     * {@code out[t * w.rows() + r] = dot(row r of w, x[t * w.cols() ...])} for every token
     * {@code t < n} and row {@code r}: the activations of {@code n} tokens times the transposed
     * weights, spread over the worker threads.
     */
    public static void matmul(WeightMatrix w, float[] x, int n, float[] out) {
        int rows = w.rows(), cols = w.cols();
        if (n < 1) throw new IllegalArgumentException("token count must be at least 1, got " + n);
        if ((long) n * cols > x.length) {
            throw new IllegalArgumentException("x holds " + x.length + " values, " + n + " tokens of " + cols + " need " + (long) n * cols);
        }
        if ((long) n * rows > out.length) {
            throw new IllegalArgumentException("out holds " + out.length + " values, " + n + " tokens of " + rows + " need " + (long) n * rows);
        }
        if (!w.type().computable()) {
            throw new UnsupportedOperationException("no kernel for weights of type " + w.type());
        }
        if (!DotKernels.VECTOR) {
            scalarMatmul(w, x, n, out);
            return;
        }
        if (n == 1 && useNative && NativeCpu.handlesDecode(w.type())) {
            NativeCpu.matvec(w, x, out);
        } else if (n > 1 && useNative && NativeCpu.handlesPrefill(w.type())) {
            NativeCpu.matmul(w, x, n, out);
        } else if (n == 1) {
            DotKernels.matvec(w, x, out);
        } else if (cols <= NarrowTiles.MAX_COLS) {
            NarrowTiles.matmul(w, x, n, out);
        } else {
            FloatTiles.matmul(w, x, n, out);
        }
    }

    /** Fallback for machines whose vectors are narrower than 256 bits. */
    static void scalarMatmul(WeightMatrix w, float[] x, int n, float[] out) {
        int rows = w.rows(), cols = w.cols();
        Parallel.forRange(rows, 16, (r0, r1) -> {
            float[] row = new float[cols];
            for (int r = r0; r < r1; r++) {
                Quantizer.dequantizeRow(w, r, row, 0);
                for (int t = 0; t < n; t++) {
                    float s = 0;
                    int xo = t * cols;
                    for (int c = 0; c < cols; c++) s += row[c] * x[xo + c];
                    out[t * rows + r] = s;
                }
            }
        });
    }
}
