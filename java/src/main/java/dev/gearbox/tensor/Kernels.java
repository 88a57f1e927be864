package dev.gearbox.tensor;

import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

/**
 * Matrix products of quantized weights with F32 activations. This first version is a scalar
 * reference through {@link Quantizer#dequantizeRow}; the Vector API kernels replace it per type.
 */
public final class Kernels {
    private Kernels() {}

    /**
     * {@code out[t * w.rows() + r] = dot(row r of w, x[t * w.cols() ...])} for every token
     * {@code t < n} and row {@code r}: the activations of {@code n} tokens times the transposed
     * weights, spread over the worker threads.
     */
    public static void matmul(WeightMatrix w, float[] x, int n, float[] out) {
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
