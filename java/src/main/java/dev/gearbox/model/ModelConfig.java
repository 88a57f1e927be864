package dev.gearbox.model;

import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.gguf.GGUFFormatException;
import dev.gearbox.gguf.TensorInfo;

/**
 * The shape and hyper-parameters of a model, read from GGUF metadata under the
 * {@code <architecture>.} prefix, with llama.cpp's defaults where a key is optional.
 */
public record ModelConfig(
        Architecture arch,
        int dim,
        int layers,
        int heads,
        int kvHeads,
        int headDim,
        int ffDim,
        int vocabSize,
        int contextLength,
        float rmsEps,
        double ropeBase,
        int ropeDims,
        double ropeScale,
        boolean tiedOutput) {

    public int qDim() { return heads * headDim; }

    public int kvDim() { return kvHeads * headDim; }

    /** Parameters in the weight matrices and vectors, the output matrix counted once when tied. */
    public long parameterCount() {
        long perLayer = 2L * dim                       // norms
                + (long) dim * qDim() + 2L * dim * kvDim() + (long) qDim() * dim
                + 3L * dim * ffDim
                + (arch.qkvBias() ? qDim() + 2L * kvDim() : 0)
                + (arch.qkNorm() ? 2L * headDim : 0);
        return (long) vocabSize * dim * (tiedOutput ? 1 : 2) + dim + layers * perLayer;
    }

    /** FLOPs of one token's forward pass at context position {@code pos} (2 per multiply-add). */
    public double flopsPerToken(int pos) {
        double matmul = 2.0 * (parameterCount() - (tiedOutput ? 0 : (long) vocabSize * dim));
        double attention = 2.0 * 2.0 * layers * (double) heads * headDim * (pos + 1);
        return matmul + attention;
    }

    /** FLOPs (from the shape) of running {@code n} tokens at positions [from, from + n). */
    public double flops(int from, int n) {
        double sum = 0;
        for (int p = from; p < from + n; p++) sum += flopsPerToken(p);
        return sum;
    }

    public static ModelConfig from(GGUFFile f) throws GGUFFormatException {
        String archName = f.requireString("general.architecture");
        Architecture arch = Architecture.byGgufName(archName);
        if (arch == null) {
            throw new GGUFFormatException(f.path(), -1, "unsupported architecture '" + archName + "' (Gearbox runs: "
                    + Architecture.supportedNames() + ")");
        }
        String p = archName + ".";
        int dim = f.requireInt(p + "embedding_length", 1, 1 << 16);
        int layers = f.requireInt(p + "block_count", 1, 1024);
        int heads = f.requireInt(p + "attention.head_count", 1, 4096);
        int kvHeads = f.getInt(p + "attention.head_count_kv", heads, 1, heads);
        if (heads % kvHeads != 0) {
            throw new GGUFFormatException(f.path(), -1, p + "attention.head_count " + heads + " is not a multiple of head_count_kv " + kvHeads);
        }
        if (dim % heads != 0 && !f.has(p + "attention.key_length")) {
            throw new GGUFFormatException(f.path(), -1, p + "embedding_length " + dim + " is not a multiple of head_count " + heads);
        }
        int headDim = f.getInt(p + "attention.key_length", dim / heads, 1, 1 << 12);
        int valueDim = f.getInt(p + "attention.value_length", headDim, 1, 1 << 12);
        if (valueDim != headDim) {
            throw new GGUFFormatException(f.path(), -1, "attention.value_length " + valueDim + " differs from key_length " + headDim + " (not supported)");
        }
        int ffDim = feedForward(f, p + "feed_forward_length");
        int ctx = f.getInt(p + "context_length", 2048, 1, 1 << 24);
        float eps = (float) f.getDouble(p + "attention.layer_norm_rms_epsilon", 1e-5);
        double ropeBase = f.getDouble(p + "rope.freq_base", 10000.0);
        int ropeDims = f.getInt(p + "rope.dimension_count", headDim, 2, headDim);
        if (ropeDims % 2 != 0) throw new GGUFFormatException(f.path(), -1, p + "rope.dimension_count must be even, got " + ropeDims);
        double ropeScale = 1.0;
        String scalingType = f.getString(p + "rope.scaling.type", "none");
        switch (scalingType) {
            case "none" -> { }
            case "linear" -> ropeScale = 1.0 / f.getDouble(p + "rope.scaling.factor", 1.0);
            default -> throw new GGUFFormatException(f.path(), -1, "unsupported rope scaling type '" + scalingType + "' (supported: none, linear, and Llama 3 rope_freqs)");
        }

        TensorInfo embd = f.tensor("token_embd.weight");
        if (embd == null) throw new GGUFFormatException(f.path(), -1, "missing tensor 'token_embd.weight'");
        if (embd.shape().length != 2 || embd.dim(0) != dim) {
            throw new GGUFFormatException(f.path(), -1, "tensor 'token_embd.weight' has shape " + java.util.Arrays.toString(embd.shape())
                    + ", expected [" + dim + ", n_vocab]");
        }
        int vocab = Math.toIntExact(embd.dim(1));
        boolean tied = f.tensor("output.weight") == null;
        return new ModelConfig(arch, dim, layers, heads, kvHeads, headDim, ffDim, vocab, ctx, eps, ropeBase, ropeDims, ropeScale, tied);
    }

    /** Feed-forward width: a scalar, or a per-layer array that Gearbox accepts when all equal. */
    private static int feedForward(GGUFFile f, String key) throws GGUFFormatException {
        var v = f.get(key);
        if (v != null && v.value() instanceof long[] arr) {
            for (long x : arr) {
                if (x != arr[0]) throw new GGUFFormatException(f.path(), -1, key + " varies per layer (not supported)");
            }
            if (arr.length == 0 || arr[0] < 1 || arr[0] > (1 << 20)) throw new GGUFFormatException(f.path(), -1, key + " is empty or out of range");
            return (int) arr[0];
        }
        return f.requireInt(key, 1, 1 << 20);
    }
}
