package dev.gearbox.tensor;

import static dev.gearbox.tensor.DotKernels.F;
import static dev.gearbox.tensor.DotKernels.L;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;

/**
 * Prefill for matrices with short rows (a tiny model's 32- to 96-wide layers, such as a ladder's
 * gatekeeper). {@link FloatTiles} reduces every (row, token) dot product across vector lanes at
 * the end, which costs more than the few multiply-adds of a short row: a 32x32 product ran at
 * 2-3 GFLOPS. Here a block of L rows is decoded once and transposed, so lane i holds row i; each
 * token's L outputs then build up in one vector from broadcast activations, with no reduction
 * across lanes at all. Four tokens at a time keep four independent FMA chains in flight. Every
 * output sums its row in column order, the same for any thread count.
 */
final class NarrowTiles {
    private NarrowTiles() {}

    /**
     * Rows up to this many values go through here (the transposed block, cols x L floats, stays
     * within L1/L2). Measured on F32 with 257 tokens, one thread: 32x32 3.5 -> 46 GFLOPS,
     * 128x128 11 -> 71, 256x256 18 -> 64, 768x768 39 -> 66 (FloatTiles -> here).
     */
    static final int MAX_COLS = 768;

    static void matmul(WeightMatrix w, float[] x, int n, float[] out) {
        int rows = w.rows(), cols = w.cols();
        long rb = w.rowBytes();
        GGMLType type = w.type();
        int blocks = (rows + L - 1) / L;
        Parallel.forRange(blocks, 1, (b0, b1) -> {
            float[] row = new float[cols];
            float[] wt = new float[cols * L];
            float[] part = new float[L];
            for (int b = b0; b < b1; b++) {
                int r0 = b * L;
                int nr = Math.min(L, rows - r0);
                if (nr < L) Arrays.fill(wt, 0f);
                for (int i = 0; i < nr; i++) {
                    RowDecoders.decode(type, w.data(), (r0 + i) * rb, cols, row, 0);
                    for (int c = 0; c < cols; c++) wt[c * L + i] = row[c];
                }
                int t = 0;
                for (; t + 4 <= n; t += 4) {
                    int x0 = t * cols, x1 = x0 + cols, x2 = x1 + cols, x3 = x2 + cols;
                    FloatVector a0 = FloatVector.zero(F), a1 = a0, a2 = a0, a3 = a0;
                    for (int c = 0; c < cols; c++) {
                        FloatVector v = FloatVector.fromArray(F, wt, c * L);
                        a0 = v.fma(FloatVector.broadcast(F, x[x0 + c]), a0);
                        a1 = v.fma(FloatVector.broadcast(F, x[x1 + c]), a1);
                        a2 = v.fma(FloatVector.broadcast(F, x[x2 + c]), a2);
                        a3 = v.fma(FloatVector.broadcast(F, x[x3 + c]), a3);
                    }
                    store(a0, out, t * rows + r0, nr, part);
                    store(a1, out, (t + 1) * rows + r0, nr, part);
                    store(a2, out, (t + 2) * rows + r0, nr, part);
                    store(a3, out, (t + 3) * rows + r0, nr, part);
                }
                for (; t < n; t++) {
                    int x0 = t * cols;
                    FloatVector a0 = FloatVector.zero(F);
                    for (int c = 0; c < cols; c++) a0 = FloatVector.fromArray(F, wt, c * L).fma(FloatVector.broadcast(F, x[x0 + c]), a0);
                    store(a0, out, t * rows + r0, nr, part);
                }
            }
        });
    }

    private static void store(FloatVector v, float[] out, int at, int nr, float[] part) {
        if (nr == L) {
            v.intoArray(out, at);
        } else {
            v.intoArray(part, 0);
            System.arraycopy(part, 0, out, at, nr);
        }
    }
}
