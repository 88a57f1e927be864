package dev.gearbox.tensor;

import static dev.gearbox.tensor.DotKernels.F;
import static dev.gearbox.tensor.DotKernels.L;

import java.util.Arrays;
import jdk.incubator.vector.FloatVector;

/**
 * Prefill: a register-blocked product of 4 decoded weight rows with 4 tokens at a time. Each step
 * loads 4 weight and 4 activation vectors and does 16 FMAs, so arithmetic, not loads, bounds it;
 * the decoded rows (4 x cols floats) stay in L1 while all n tokens pass over them.
 */
final class FloatTiles {
    private FloatTiles() {}

    private static final int RT = 4, TT = 4;

    static void matmul(WeightMatrix w, float[] x, int n, float[] out) {
        int rows = w.rows(), cols = w.cols();
        long rb = w.rowBytes();
        GGMLType type = w.type();
        int tiles = (rows + RT - 1) / RT;
        Parallel.forRange(tiles, 1, (t0, t1) -> {
            float[] buf = new float[RT * cols];
            float[] tmp = new float[L], sums = new float[RT * TT];
            for (int tile = t0; tile < t1; tile++) {
                int r0 = tile * RT;
                int nr = Math.min(RT, rows - r0);
                for (int i = 0; i < nr; i++) RowDecoders.decode(type, w.data(), (r0 + i) * rb, cols, buf, i * cols);
                if (nr < RT) Arrays.fill(buf, nr * cols, RT * cols, 0f);
                for (int t = 0; t < n; t += TT) tile4x4(buf, cols, x, t, n, out, rows, r0, nr, tmp, sums);
            }
        });
    }

    /** Rows r0..r0+nr of out for tokens t..min(t+4, n); missing rows/tokens compute on padding and are not stored. */
    private static void tile4x4(float[] w, int cols, float[] x, int t, int n, float[] out, int rows, int r0, int nr,
                                float[] tmp, float[] sums) {
        int nt = Math.min(TT, n - t);
        int x0 = t * cols;
        int x1 = Math.min(t + 1, n - 1) * cols, x2 = Math.min(t + 2, n - 1) * cols, x3 = Math.min(t + 3, n - 1) * cols;
        int w1 = cols, w2 = 2 * cols, w3 = 3 * cols;
        FloatVector a00 = FloatVector.zero(F), a01 = a00, a02 = a00, a03 = a00;
        FloatVector a10 = a00, a11 = a00, a12 = a00, a13 = a00;
        FloatVector a20 = a00, a21 = a00, a22 = a00, a23 = a00;
        FloatVector a30 = a00, a31 = a00, a32 = a00, a33 = a00;
        int cv = cols - cols % L;
        for (int c = 0; c < cv; c += L) {
            FloatVector v0 = FloatVector.fromArray(F, w, c);
            FloatVector v1 = FloatVector.fromArray(F, w, w1 + c);
            FloatVector v2 = FloatVector.fromArray(F, w, w2 + c);
            FloatVector v3 = FloatVector.fromArray(F, w, w3 + c);
            FloatVector u = FloatVector.fromArray(F, x, x0 + c);
            a00 = v0.fma(u, a00); a10 = v1.fma(u, a10); a20 = v2.fma(u, a20); a30 = v3.fma(u, a30);
            u = FloatVector.fromArray(F, x, x1 + c);
            a01 = v0.fma(u, a01); a11 = v1.fma(u, a11); a21 = v2.fma(u, a21); a31 = v3.fma(u, a31);
            u = FloatVector.fromArray(F, x, x2 + c);
            a02 = v0.fma(u, a02); a12 = v1.fma(u, a12); a22 = v2.fma(u, a22); a32 = v3.fma(u, a32);
            u = FloatVector.fromArray(F, x, x3 + c);
            a03 = v0.fma(u, a03); a13 = v1.fma(u, a13); a23 = v2.fma(u, a23); a33 = v3.fma(u, a33);
        }
        a00.intoArray(tmp, 0); sums[0] = DotKernels.sumLanes(tmp);
        a01.intoArray(tmp, 0); sums[1] = DotKernels.sumLanes(tmp);
        a02.intoArray(tmp, 0); sums[2] = DotKernels.sumLanes(tmp);
        a03.intoArray(tmp, 0); sums[3] = DotKernels.sumLanes(tmp);
        a10.intoArray(tmp, 0); sums[4] = DotKernels.sumLanes(tmp);
        a11.intoArray(tmp, 0); sums[5] = DotKernels.sumLanes(tmp);
        a12.intoArray(tmp, 0); sums[6] = DotKernels.sumLanes(tmp);
        a13.intoArray(tmp, 0); sums[7] = DotKernels.sumLanes(tmp);
        a20.intoArray(tmp, 0); sums[8] = DotKernels.sumLanes(tmp);
        a21.intoArray(tmp, 0); sums[9] = DotKernels.sumLanes(tmp);
        a22.intoArray(tmp, 0); sums[10] = DotKernels.sumLanes(tmp);
        a23.intoArray(tmp, 0); sums[11] = DotKernels.sumLanes(tmp);
        a30.intoArray(tmp, 0); sums[12] = DotKernels.sumLanes(tmp);
        a31.intoArray(tmp, 0); sums[13] = DotKernels.sumLanes(tmp);
        a32.intoArray(tmp, 0); sums[14] = DotKernels.sumLanes(tmp);
        a33.intoArray(tmp, 0); sums[15] = DotKernels.sumLanes(tmp);
        for (int i = 0; i < nr; i++) {
            for (int j = 0; j < nt; j++) {
                float sum = sums[i * TT + j];
                int xo = j == 0 ? x0 : j == 1 ? x1 : j == 2 ? x2 : x3;
                for (int c = cv; c < cols; c++) sum += w[i * cols + c] * x[xo + c];
                out[(t + j) * rows + r0 + i] = sum;
            }
        }
    }
}
