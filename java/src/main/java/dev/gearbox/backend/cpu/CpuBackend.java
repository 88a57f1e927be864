package dev.gearbox.backend.cpu;

import dev.gearbox.backend.Backend;
import dev.gearbox.backend.KVCache;
import dev.gearbox.backend.Rope;
import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.gguf.TensorInfo;
import dev.gearbox.tensor.GGMLType;
import dev.gearbox.tensor.Kernels;
import dev.gearbox.tensor.Parallel;
import dev.gearbox.tensor.Quantizer;
import dev.gearbox.tensor.WeightMatrix;

import java.lang.foreign.MemorySegment;

/**
 * The CPU backend: activations in heap float arrays, weights left quantized in the memory-mapped
 * file (matrices) or dequantized once (1-D norms and biases), kernels from {@link Kernels}, spread
 * over {@link Parallel}'s threads.
 */
public final class CpuBackend implements Backend {

    record CpuBuffer(float[] data) implements Buffer {
        public long size() { return data.length; }
    }

    /** A matrix stays in the mapping; a vector is dequantized to F32 once. */
    record CpuWeight(TensorInfo info, WeightMatrix matrix, float[] vector) implements Weight {}

    static final class CpuKV implements KVCache {
        final int layers, capacity, kvDim;
        // keys[layer]: blocks of KEY_BLOCK positions, each a kvDim x KEY_BLOCK tile (AttentionKernels.keyIndex),
        // so that a query's scores over many positions are vector FMAs with no horizontal sum;
        // values[layer][pos * kvDim + i], read a whole row per position.
        final float[][] keys, values;

        CpuKV(int layers, int capacity, int kvDim) {
            long blocked = (long) ((capacity + AttentionKernels.KEY_BLOCK - 1) / AttentionKernels.KEY_BLOCK) * AttentionKernels.KEY_BLOCK * kvDim;
            if (blocked > Integer.MAX_VALUE - 16) {
                throw new IllegalArgumentException("KV cache of " + capacity + " positions x " + kvDim + " is too large for one CPU array; use a smaller context");
            }
            this.layers = layers;
            this.capacity = capacity;
            this.kvDim = kvDim;
            this.keys = new float[layers][(int) blocked];
            this.values = new float[layers][capacity * kvDim];
        }

        public int layers() { return layers; }
        public int capacity() { return capacity; }
        public int kvDim() { return kvDim; }
        /** Per position, linear in capacity (the keys' last block rounds up by under KEY_BLOCK positions, not counted). */
        public long bytes() { return 2L * layers * capacity * kvDim * Float.BYTES; }
        public void close() { }
    }

    @Override
    public String name() { return "cpu"; }

    private static float[] f(Buffer b) { return ((CpuBuffer) b).data; }

    @Override
    public Weight load(GGUFFile file, TensorInfo t) {
        if (t.shape().length == 1) {
            int n = Math.toIntExact(t.elementCount());
            float[] v = new float[n];
            Quantizer.dequantize(t.type(), file.data(t), v, 0, n);
            return new CpuWeight(t, null, v);
        }
        int cols = Math.toIntExact(t.dim(0));
        int rows = Math.toIntExact(t.elementCount() / cols);
        return new CpuWeight(t, new WeightMatrix(t.type(), rows, cols, file.data(t)), null);
    }

    @Override
    public Weight upload(String name, float[] rowMajor, int rows, int cols) {
        if (rows < 1 || cols < 1 || (long) rows * cols != rowMajor.length) {
            throw new IllegalArgumentException("weight '" + name + "': " + rowMajor.length + " values are not " + rows + " x " + cols);
        }
        // A private copy: the caller's array may change after the upload, a model file's bytes never do.
        TensorInfo info = new TensorInfo(name, GGMLType.F32, new long[] {cols, rows}, 0);
        // The floats are kept as the weight's vector too: addLowRank reads them directly.
        float[] copy = rowMajor.clone();
        return new CpuWeight(info, new WeightMatrix(GGMLType.F32, rows, cols, MemorySegment.ofArray(copy)), copy);
    }

    /**
     * One pass per row, no calls between: t = A x (r dot products over cols), then out += B t (a dot
     * product of length r per output). Single-threaded: r (rows + cols) multiply-adds a row, less
     * than handing work to another thread costs at a small tier's sizes.
     */
    @Override
    public void addLowRank(Weight a, Weight b, Buffer x, int row0, int n, Buffer ta, Buffer tb, Buffer out) {
        CpuWeight wa = (CpuWeight) a, wb = (CpuWeight) b;
        if (wa.vector() == null || wb.vector() == null) {
            Backend.super.addLowRank(a, b, x, row0, n, ta, tb, out);
            return;
        }
        int r = wa.matrix().rows(), cols = wa.matrix().cols(), rows = wb.matrix().rows();
        float[] av = wa.vector(), bv = wb.vector(), xs = f(x), os = f(out);
        float[] t = new float[r];
        for (int row = row0; row < row0 + n; row++) {
            int xo = row * cols, oo = row * rows;
            for (int c = 0; c < r; c++) t[c] = LowRankKernels.dot(av, c * cols, xs, xo, cols);
            for (int i = 0; i < rows; i++) os[oo + i] += LowRankKernels.dot(bv, i * r, t, 0, r);
        }
    }

    @Override
    public Buffer allocate(long floats) {
        if (floats > Integer.MAX_VALUE - 16) throw new IllegalArgumentException("CPU buffer of " + floats + " floats is too large");
        return new CpuBuffer(new float[(int) floats]);
    }

    @Override
    public void embed(Weight table, int[] tokens, Buffer out) {
        WeightMatrix m = ((CpuWeight) table).matrix;
        float[] o = f(out);
        for (int i = 0; i < tokens.length; i++) Quantizer.dequantizeRow(m, tokens[i], o, i * m.cols());
    }

    @Override
    public void matmul(Weight w, Buffer x, int n, Buffer out) {
        Kernels.matmul(((CpuWeight) w).matrix, f(x), n, f(out));
    }

    /**
     * Rows from 0 go straight to the kernel; a range further down is copied out and back, because
     * {@link Kernels#matmul} reads and writes from the start of its arrays. Only a batch that mixes
     * adaptations takes this path, for one sequence's few rows (a copy of n x (cols + rows) floats).
     */
    @Override
    public void matmulRows(Weight w, Buffer x, int row0, int n, Buffer out) {
        WeightMatrix m = ((CpuWeight) w).matrix;
        if (row0 == 0) {
            Kernels.matmul(m, f(x), n, f(out));
            return;
        }
        float[] in = java.util.Arrays.copyOfRange(f(x), row0 * m.cols(), (row0 + n) * m.cols());
        float[] res = new float[n * m.rows()];
        Kernels.matmul(m, in, n, res);
        System.arraycopy(res, 0, f(out), row0 * m.rows(), res.length);
    }

    @Override
    public void addRows(Buffer x, Buffer y, int row0, int n, int dim) {
        float[] xs = f(x), ys = f(y);
        for (int i = row0 * dim, end = (row0 + n) * dim; i < end; i++) xs[i] += ys[i];
    }

    @Override
    public void addBias(Buffer x, Weight b, int n, int dim) {
        float[] xs = f(x), bs = ((CpuWeight) b).vector;
        for (int t = 0; t < n; t++) {
            int o = t * dim;
            for (int i = 0; i < dim; i++) xs[o + i] += bs[i];
        }
    }

    @Override
    public void rmsNorm(Buffer in, Buffer out, Weight gain, int rows, int dim, float eps) {
        float[] src = f(in), dst = f(out), g = ((CpuWeight) gain).vector;
        for (int r = 0; r < rows; r++) {
            int o = r * dim;
            double ss = 0;
            for (int i = 0; i < dim; i++) ss += (double) src[o + i] * src[o + i];
            float scale = (float) (1.0 / Math.sqrt(ss / dim + eps));
            for (int i = 0; i < dim; i++) dst[o + i] = src[o + i] * scale * g[i];
        }
    }

    @Override
    public void rope(Buffer xb, int n, int heads, int headDim, int pos0, Rope rope) {
        float[] x = f(xb);
        int half = rope.dims() / 2;
        float[] freqs = rope.freqs();
        // pair by pair across the heads: each angle's sine and cosine once per token, and no
        // scratch arrays allocated on the decode path
        for (int t = 0; t < n; t++) {
            int pos = pos0 + t;
            for (int i = 0; i < half; i++) {
                double theta = pos * (double) freqs[i];
                float cos = (float) Math.cos(theta), sin = (float) Math.sin(theta);
                int a0 = rope.neox() ? i : 2 * i, b0 = rope.neox() ? i + half : 2 * i + 1;
                for (int h = 0; h < heads; h++) {
                    int o = (t * heads + h) * headDim;
                    float x0 = x[o + a0], x1 = x[o + b0];
                    x[o + a0] = x0 * cos - x1 * sin;
                    x[o + b0] = x0 * sin + x1 * cos;
                }
            }
        }
    }

    @Override
    public void storeKV(KVCache cache, int layer, Buffer k, Buffer v, int n, int pos0) {
        CpuKV kv = (CpuKV) cache;
        float[] src = f(k), kt = kv.keys[layer];
        int kvDim = kv.kvDim;
        for (int t = 0; t < n; t++) {
            for (int i = 0, so = t * kvDim; i < kvDim; i++) kt[AttentionKernels.keyIndex(pos0 + t, i, kvDim)] = src[so + i];
        }
        System.arraycopy(f(v), 0, kv.values[layer], pos0 * kv.kvDim, n * kv.kvDim);
    }

    @Override
    public void attention(KVCache cache, int layer, Buffer qb, int n, int pos0, int heads, int kvHeads, int headDim, float scale, Buffer outb) {
        CpuKV kv = (CpuKV) cache;
        float[] q = f(qb), out = f(outb), keys = kv.keys[layer], values = kv.values[layer];
        int kvDim = kv.kvDim, group = heads / kvHeads;
        Parallel.forRange(n * heads, 1, (s, e) -> {
            float[] scores = new float[(pos0 + n + AttentionKernels.KEY_BLOCK - 1) / AttentionKernels.KEY_BLOCK * AttentionKernels.KEY_BLOCK];
            for (int th = s; th < e; th++) {
                int t = th / heads, h = th % heads;
                int qo = (t * heads + h) * headDim;
                int ko = (h / group) * headDim;
                int len = pos0 + t + 1;
                float max = AttentionKernels.scores(q, qo, keys, ko, kvDim, headDim, len, scale, scores);
                float inv = 1f / AttentionKernels.expShiftSum(scores, len, max);
                int oo = (t * heads + h) * headDim;
                java.util.Arrays.fill(out, oo, oo + headDim, 0f);
                for (int p = 0; p < len; p++) {
                    AttentionKernels.axpy(scores[p] * inv, values, p * kvDim + ko, out, oo, headDim);
                }
            }
        });
    }

    @Override
    public void swiglu(Buffer gate, Buffer up, long count) {
        AttentionKernels.swiglu(f(gate), f(up), (int) count);
    }

    @Override
    public void add(Buffer x, Buffer y, long count) {
        AttentionKernels.add(f(x), f(y), (int) count);
    }

    @Override
    public void copy(Buffer src, long srcOff, Buffer dst, long dstOff, long count) {
        System.arraycopy(f(src), (int) srcOff, f(dst), (int) dstOff, (int) count);
    }

    @Override
    public void read(Buffer b, long offset, float[] dst, int dstOff, int count) {
        System.arraycopy(f(b), (int) offset, dst, dstOff, count);
    }

    @Override
    public void copyKV(KVCache src, int srcPos, KVCache dst, int dstPos, int n) {
        CpuKV a = (CpuKV) src, b = (CpuKV) dst;
        if (a.layers != b.layers || a.kvDim != b.kvDim) throw new IllegalArgumentException("KV caches of different shapes");
        if (srcPos < 0 || dstPos < 0 || n < 0 || srcPos + n > a.capacity || dstPos + n > b.capacity) {
            throw new IllegalArgumentException("KV copy of " + n + " positions from " + srcPos + " to " + dstPos + " is out of range");
        }
        int kvDim = a.kvDim, blk = AttentionKernels.KEY_BLOCK;
        boolean aligned = srcPos % blk == 0 && dstPos % blk == 0;
        for (int l = 0; l < a.layers; l++) {
            float[] ks = a.keys[l], kd = b.keys[l];
            int p = 0;
            if (aligned) {
                // Whole key blocks are contiguous kvDim x KEY_BLOCK tiles: one array copy each.
                int whole = n / blk * blk;
                System.arraycopy(ks, AttentionKernels.keyIndex(srcPos, 0, kvDim), kd, AttentionKernels.keyIndex(dstPos, 0, kvDim), whole * kvDim);
                p = whole;
            }
            for (; p < n; p++) {
                for (int i = 0; i < kvDim; i++) kd[AttentionKernels.keyIndex(dstPos + p, i, kvDim)] = ks[AttentionKernels.keyIndex(srcPos + p, i, kvDim)];
            }
            System.arraycopy(a.values[l], srcPos * kvDim, b.values[l], dstPos * kvDim, n * kvDim);
        }
    }

    @Override
    public KVCache allocateKV(int layers, int capacity, int kvDim) {
        return new CpuKV(layers, capacity, kvDim);
    }

    @Override
    public void close() { }
}
