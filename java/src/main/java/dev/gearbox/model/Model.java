package dev.gearbox.model;

import dev.gearbox.backend.Backend;
import dev.gearbox.backend.Rope;
import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.gguf.GGUFFormatException;
import dev.gearbox.tokenizer.Tokenizer;
import dev.gearbox.tokenizer.Tokenizers;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A loaded model: its config, tokenizer and weights on one backend. Generation state lives in
 * {@link Sequence}s, so one model serves many sequences.
 */
public final class Model implements AutoCloseable {
    private final GGUFFile file;
    private final ModelConfig config;
    private final Tokenizer tokenizer;
    private final Backend backend;
    private final Weights weights;
    private final Rope rope;

    private Model(GGUFFile file, ModelConfig config, Tokenizer tokenizer, Backend backend, Weights weights, Rope rope) {
        this.file = file;
        this.config = config;
        this.tokenizer = tokenizer;
        this.backend = backend;
        this.weights = weights;
        this.rope = rope;
    }

    /**
     * Loads a model onto {@code backend}; once loaded, the model owns it (closing the model closes it). There
     * is no default device: the caller names one ({@code device.Backends} maps a name to a backend).
     */
    public static Model load(Path path, Backend backend) throws IOException {
        GGUFFile f = GGUFFile.open(path);
        try {
            ModelConfig c = ModelConfig.from(f);
            Tokenizer tok = Tokenizers.fromGGUF(f);
            if (tok.vocabSize() != c.vocabSize()) {
                throw new GGUFFormatException(path, -1, "tokenizer has " + tok.vocabSize() + " tokens but token_embd.weight has "
                        + c.vocabSize() + " rows");
            }
            Weights w = Weights.load(f, c, backend);
            return new Model(f, c, tok, backend, w, rope(c, f, w, backend));
        } catch (IOException | RuntimeException e) {
            f.close();
            throw e;
        }
    }

    /** Inverse rope frequencies, with linear scaling and Llama 3's per-frequency factors applied. */
    private static Rope rope(ModelConfig c, GGUFFile f, Weights w, Backend backend) throws GGUFFormatException {
        float[] freqs = Rope.frequencies(c.ropeDims(), c.ropeBase());
        for (int i = 0; i < freqs.length; i++) freqs[i] *= (float) c.ropeScale();
        if (w.ropeFactors() != null) {
            float[] factors = new float[freqs.length];
            dev.gearbox.tensor.Quantizer.dequantize(w.ropeFactors().info().type(), f.data(w.ropeFactors().info()), factors, 0, factors.length);
            for (int i = 0; i < freqs.length; i++) {
                if (!(factors[i] > 0)) throw new GGUFFormatException(f.path(), -1, "rope_freqs.weight[" + i + "] = " + factors[i] + " is not positive");
                freqs[i] /= factors[i];
            }
        }
        return new Rope(c.arch().neoxRope(), c.ropeDims(), freqs);
    }

    public ModelConfig config() { return config; }
    public Tokenizer tokenizer() { return tokenizer; }
    public GGUFFile file() { return file; }
    public Backend backend() { return backend; }
    Weights weights() { return weights; }
    Rope rope() { return rope; }

    /** The raw {@code tokenizer.chat_template}, or null. */
    public String chatTemplate() {
        var v = file.get("tokenizer.chat_template");
        return v != null && v.value() instanceof String s ? s : null;
    }

    /** Bytes of all weight tensors as stored (quantized). */
    public long weightBytes() {
        long total = 0;
        for (var t : file.tensors().values()) total += t.byteSize();
        return total;
    }

    /** A new sequence with a KV cache for {@code capacity} positions. */
    public Sequence newSequence(int capacity) {
        return newSequence(capacity, backend);
    }

    /** A new sequence whose cache and work live on {@code lane} (from {@code backend().lane(i)}). */
    public Sequence newSequence(int capacity, Backend lane) {
        if (capacity < 1) throw new IllegalArgumentException("context size must be at least 1, got " + capacity);
        return new Sequence(this, capacity, lane);
    }

    /**
     * A sequence whose cache holds only the first {@code layers} layers, for a {@link PromptReader}
     * that runs only those (a gatekeeper reading early layers): the rest of a cache would be
     * allocated for nothing. It cannot run a whole forward pass.
     */
    public Sequence newPartialSequence(int capacity, int layers) {
        if (capacity < 1) throw new IllegalArgumentException("context size must be at least 1, got " + capacity);
        if (layers < 1 || layers > config.layers()) throw new IllegalArgumentException("layers must be in 1.." + config.layers() + ", got " + layers);
        return new Sequence(this, capacity, backend, layers);
    }

    /**
     * Runs each sequence's new tokens in one batched forward pass (the matrices over all rows
     * together; rope positions, KV stores and attention per sequence) and returns each sequence's
     * logits after its last new token. Allocates fresh activation buffers; an executor that steps
     * repeatedly keeps a {@link BatchStep} instead.
     */
    public float[][] step(java.util.List<Sequence> seqs, int[][] newTokens) {
        return new BatchStep(this, backend).step(seqs, newTokens);
    }

    /** A reusable batched step (it keeps its activation buffers between calls); one thread at a time. */
    public BatchStep newBatchStep() {
        return new BatchStep(this, backend);
    }

    /** A reusable batched step on {@code lane} (from {@code backend().lane(i)}), for sequences made on the same lane. */
    public BatchStep newBatchStep(Backend lane) {
        return new BatchStep(this, lane);
    }

    @Override
    public void close() {
        backend.close();
        file.close();
    }
}
