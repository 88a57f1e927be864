package dev.gearbox.model;

import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.gguf.GGUFFormatException;
import dev.gearbox.gguf.TensorInfo;
import dev.gearbox.tensor.Quantizer;

import java.util.ArrayList;
import java.util.List;

/**
 * An independent, deliberately plain forward pass in double precision for tests: every weight
 * dequantized up front, one token at a time, no backend, no vectors, no threads. It shares only
 * the config reader and the dequantizers with the engine, so an engine bug shows as a mismatch.
 */
final class NaiveForward {
    private final ModelConfig c;
    private final GGUFFile f;
    private final List<double[][]> keys = new ArrayList<>(), values = new ArrayList<>();

    NaiveForward(GGUFFile f) throws GGUFFormatException {
        this.f = f;
        this.c = ModelConfig.from(f);
    }

    private final java.util.Map<String, Object> cache = new java.util.HashMap<>();

    private double[] vec(String name) {
        return (double[]) cache.computeIfAbsent("v:" + name, k -> dequantize(name));
    }

    private double[] dequantize(String name) {
        TensorInfo t = f.tensor(name);
        float[] v = new float[(int) t.elementCount()];
        Quantizer.dequantize(t.type(), f.data(t), v, 0, v.length);
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) d[i] = v[i];
        return d;
    }

    /** Row-major [rows][cols] with cols = shape[0]. */
    private double[][] mat(String name) {
        return (double[][]) cache.computeIfAbsent("m:" + name, k -> dequantizeMatrix(name));
    }

    private double[][] dequantizeMatrix(String name) {
        TensorInfo t = f.tensor(name);
        int cols = (int) t.dim(0), rows = (int) (t.elementCount() / cols);
        double[] flat = dequantize(name);
        double[][] m = new double[rows][cols];
        for (int r = 0; r < rows; r++) System.arraycopy(flat, r * cols, m[r], 0, cols);
        return m;
    }

    private static double[] matvec(double[][] w, double[] x) {
        double[] out = new double[w.length];
        for (int r = 0; r < w.length; r++) {
            double s = 0;
            for (int i = 0; i < x.length; i++) s += w[r][i] * x[i];
            out[r] = s;
        }
        return out;
    }

    private double[] rmsnorm(double[] x, int off, int len, double[] g) {
        double ss = 0;
        for (int i = 0; i < len; i++) ss += x[off + i] * x[off + i];
        double scale = 1 / Math.sqrt(ss / len + c.rmsEps());
        double[] out = new double[len];
        for (int i = 0; i < len; i++) out[i] = x[off + i] * scale * g[i];
        return out;
    }

    private void rope(double[] x, int heads, int pos, double[] factors) {
        int hd = c.headDim(), half = c.ropeDims() / 2;
        for (int h = 0; h < heads; h++) {
            for (int i = 0; i < half; i++) {
                double freq = Math.pow(c.ropeBase(), -2.0 * i / c.ropeDims()) * c.ropeScale();
                if (factors != null) freq /= factors[i];
                double th = pos * freq;
                int a = h * hd + (c.arch().neoxRope() ? i : 2 * i);
                int b = h * hd + (c.arch().neoxRope() ? i + half : 2 * i + 1);
                double x0 = x[a], x1 = x[b];
                x[a] = x0 * Math.cos(th) - x1 * Math.sin(th);
                x[b] = x0 * Math.sin(th) + x1 * Math.cos(th);
            }
        }
    }

    /** Logits after feeding {@code token} at the next position. */
    double[] step(int token) {
        int pos = keys.isEmpty() ? 0 : keys.get(0).length;
        double[] x = mat("token_embd.weight")[token];
        x = x.clone();
        double[] factors = f.tensor("rope_freqs.weight") != null ? vec("rope_freqs.weight") : null;
        for (int l = 0; l < c.layers(); l++) {
            String p = "blk." + l + ".";
            double[] xb = rmsnorm(x, 0, c.dim(), vec(p + "attn_norm.weight"));
            double[] q = matvec(mat(p + "attn_q.weight"), xb);
            double[] k = matvec(mat(p + "attn_k.weight"), xb);
            double[] v = matvec(mat(p + "attn_v.weight"), xb);
            if (c.arch().qkvBias()) {
                add(q, vec(p + "attn_q.bias"));
                add(k, vec(p + "attn_k.bias"));
                add(v, vec(p + "attn_v.bias"));
            }
            if (c.arch().qkNorm()) {
                double[] qn = vec(p + "attn_q_norm.weight"), kn = vec(p + "attn_k_norm.weight");
                for (int h = 0; h < c.heads(); h++) System.arraycopy(rmsnorm(q, h * c.headDim(), c.headDim(), qn), 0, q, h * c.headDim(), c.headDim());
                for (int h = 0; h < c.kvHeads(); h++) System.arraycopy(rmsnorm(k, h * c.headDim(), c.headDim(), kn), 0, k, h * c.headDim(), c.headDim());
            }
            rope(q, c.heads(), pos, factors);
            rope(k, c.kvHeads(), pos, factors);
            if (keys.size() <= l) { keys.add(new double[0][]); values.add(new double[0][]); }
            keys.set(l, append(keys.get(l), k));
            values.set(l, append(values.get(l), v));
            double[][] K = keys.get(l), V = values.get(l);
            double[] att = new double[c.qDim()];
            int group = c.heads() / c.kvHeads();
            for (int h = 0; h < c.heads(); h++) {
                int ko = (h / group) * c.headDim();
                double[] s = new double[K.length];
                double max = Double.NEGATIVE_INFINITY;
                for (int t = 0; t < K.length; t++) {
                    double d = 0;
                    for (int i = 0; i < c.headDim(); i++) d += q[h * c.headDim() + i] * K[t][ko + i];
                    s[t] = d / Math.sqrt(c.headDim());
                    max = Math.max(max, s[t]);
                }
                double sum = 0;
                for (int t = 0; t < K.length; t++) { s[t] = Math.exp(s[t] - max); sum += s[t]; }
                for (int t = 0; t < K.length; t++)
                    for (int i = 0; i < c.headDim(); i++) att[h * c.headDim() + i] += s[t] / sum * V[t][ko + i];
            }
            add(x, matvec(mat(p + "attn_output.weight"), att));
            xb = rmsnorm(x, 0, c.dim(), vec(p + "ffn_norm.weight"));
            double[] g = matvec(mat(p + "ffn_gate.weight"), xb), u = matvec(mat(p + "ffn_up.weight"), xb);
            for (int i = 0; i < g.length; i++) g[i] = g[i] / (1 + Math.exp(-g[i])) * u[i];
            add(x, matvec(mat(p + "ffn_down.weight"), g));
        }
        x = rmsnorm(x, 0, c.dim(), vec("output_norm.weight"));
        return matvec(mat(c.tiedOutput() ? "token_embd.weight" : "output.weight"), x);
    }

    private static void add(double[] a, double[] b) {
        for (int i = 0; i < a.length; i++) a[i] += b[i];
    }

    private static double[][] append(double[][] a, double[] row) {
        double[][] b = java.util.Arrays.copyOf(a, a.length + 1);
        b[a.length] = row;
        return b;
    }
}
