package dev.gearbox.backend;

import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.gguf.TensorInfo;
import dev.gearbox.sample.TokenChoice;

/**
 * The one seam between model code and devices, in the spirit of ggml's backends: the forward pass
 * is written once against these operations, and each backend (the CPU's in {@code backend.cpu},
 * CUDA's in {@code backend.cuda}; {@code device.Backends} names them) implements them on memory it
 * owns. Buffers hold F32 activations laid out row-major, one row per token. The forward pass marks
 * each step explicitly ({@link #openStep}), so no backend infers one from the shapes of calls.
 */
public interface Backend extends AutoCloseable {

    /** Short name, e.g. "cpu" or "cuda:0". */
    String name();

    /**
     * The scope of one forward step, from {@link #openStep} to {@link #close}: every call between
     * belongs to that step. Used with try-with-resources.
     */
    interface StepScope extends AutoCloseable {
        /** The scope of a backend with nothing to do per step: one shared instance, so opening it allocates nothing. */
        StepScope NONE = () -> { };

        /** Ends the step; work the backend held back for it is launched (nothing is read back). */
        @Override
        void close();
    }

    /**
     * Opens the scope of one whole forward step over {@code rows} token rows, from the embedding
     * through the output norm and the vocabulary projection to the token choice or the read of the
     * logits. {@code rows == 1} is a single-sequence, single-token decode step (each sequence of a
     * step brings at least one row), which a device may record and replay as one graph (CUDA
     * does); calls outside any scope run at once. One scope at a time per backend (lane), opened
     * and closed by the thread that makes its calls. The CPU has nothing to do: {@link StepScope#NONE}.
     */
    default StepScope openStep(int rows) {
        return StepScope.NONE;
    }

    /** An opaque handle to activations or cache memory owned by this backend. */
    interface Buffer {
        /** Number of F32 elements. */
        long size();
    }

    /** An opaque handle to a weight placed on this backend (a matrix or a vector). */
    interface Weight {
        TensorInfo info();
    }

    /** Places a tensor of a mapped GGUF file on the backend, once, for the life of the model. */
    Weight load(GGUFFile file, TensorInfo tensor);

    /**
     * Places host F32 data on the backend as a {@code rows x cols} matrix (row-major) of type F32,
     * for weights made at run time rather than read from a model file (an SVF expert's adapted
     * matrix or its low-rank factors). {@code name} becomes the weight's tensor name.
     */
    Weight upload(String name, float[] rowMajor, int rows, int cols);

    /** A new zeroed buffer of {@code floats} elements. */
    Buffer allocate(long floats);

    /** Rows {@code tokens[i]} of the embedding table, dequantized, into rows of {@code out}. */
    void embed(Weight table, int[] tokens, Buffer out);

    /** {@code out[t] = W · x[t]} for the first {@code n} rows of {@code x}: out row length is W's rows. */
    void matmul(Weight w, Buffer x, int n, Buffer out);

    /**
     * {@link #matmul} on a row range: {@code out[t] = W · x[t]} for rows {@code row0 <= t < row0 + n}
     * of both {@code x} (rows of W's cols) and {@code out} (rows of W's rows); other rows of
     * {@code out} are left alone. What a batched step needs to give one sequence's rows their own
     * weights (an SVF expert) while the rest of the batch keeps the base ones.
     */
    void matmulRows(Weight w, Buffer x, int row0, int n, Buffer out);

    /** {@code x[t] += y[t]} for rows {@code row0 <= t < row0 + n} of length {@code dim} of both buffers. */
    void addRows(Buffer x, Buffer y, int row0, int n, int dim);

    /**
     * An SVF expert's low-rank correction: {@code out[t] += B · (A · x[t])} for rows
     * {@code row0 <= t < row0 + n}, A being {@code r x cols} and B {@code rows x r}; {@code ta}
     * (n x r) and {@code tb} (n x rows, at the same row offsets) are scratch. This default composes
     * {@link #matmulRows} and {@link #addRows}; a backend may do it in one pass (the CPU does: at a
     * small tier's sizes the three calls cost more than their arithmetic).
     */
    default void addLowRank(Weight a, Weight b, Buffer x, int row0, int n, Buffer ta, Buffer tb, Buffer out) {
        matmulRows(a, x, row0, n, ta);
        matmulRows(b, ta, row0, n, tb);
        addRows(out, tb, row0, n, Math.toIntExact(b.info().dim(1)));
    }

    /** {@code x[t] += b} for each of the {@code n} rows of length {@code dim}. */
    void addBias(Buffer x, Weight b, int n, int dim);

    /** RMSNorm of {@code rows} rows of length {@code dim}, times {@code gain} (length dim). In place allowed. */
    void rmsNorm(Buffer in, Buffer out, Weight gain, int rows, int dim, float eps);

    /**
     * Rotary position embedding, in place, on {@code n} token rows each of {@code heads} heads of
     * {@code headDim}; token {@code t} is at position {@code pos0 + t}.
     */
    void rope(Buffer x, int n, int heads, int headDim, int pos0, Rope rope);

    /** Writes {@code n} token rows of keys and values into the cache of {@code layer} at positions pos0... */
    void storeKV(KVCache cache, int layer, Buffer k, Buffer v, int n, int pos0);

    /**
     * Causal attention for {@code n} query rows at positions pos0..pos0+n-1 over the cache of
     * {@code layer} (positions 0..pos0+t for query t). Writes {@code n} rows of heads*headDim.
     */
    void attention(KVCache cache, int layer, Buffer q, int n, int pos0, int heads, int kvHeads, int headDim, float scale, Buffer out);

    /** {@code gate[i] = silu(gate[i]) * up[i]} for the first {@code count} elements. */
    void swiglu(Buffer gate, Buffer up, long count);

    /** {@code x[i] += y[i]} for the first {@code count} elements. */
    void add(Buffer x, Buffer y, long count);

    /** Copies {@code count} elements from {@code src[srcOff]} to {@code dst[dstOff]} on the device. */
    void copy(Buffer src, long srcOff, Buffer dst, long dstOff, long count);

    /** Copies {@code count} elements starting at {@code offset} to the host. */
    void read(Buffer b, long offset, float[] dst, int dstOff, int count);

    /**
     * Chooses the next token from the {@code n} logits at {@code offset} of {@code logits}, as
     * {@code choice} says, for draw number {@code step}. This default reads the logits to the host;
     * a backend whose logits live on a device chooses there and brings back only the token id and
     * its log-probability.
     */
    default TokenChoice.Choice choose(Buffer logits, long offset, int n, TokenChoice choice, int step) {
        float[] row = new float[n];
        read(logits, offset, row, 0, n);
        return choice.choose(row, step);
    }

    /**
     * {@link #choose} for several rows of {@code n} logits at once (row {@code rows[i]} with
     * {@code choices[i]} and draw {@code draws[i]}): one round trip to a device for a batched step.
     */
    default TokenChoice.Choice[] chooseRows(Buffer logits, int n, int[] rows, TokenChoice[] choices, int[] draws) {
        TokenChoice.Choice[] out = new TokenChoice.Choice[rows.length];
        for (int i = 0; i < rows.length; i++) out[i] = choose(logits, (long) rows[i] * n, n, choices[i], draws[i]);
        return out;
    }

    /** True when {@link #choose} runs where the logits are, so callers should prefer it to reading them. */
    default boolean choosesOnDevice() {
        return false;
    }

    /**
     * The backend for lane {@code index} of a tier's scheduler: the same weights, with its own
     * queue of device work, so that lanes can run at the same time (on CUDA: a stream, a cuBLAS
     * handle, scratch memory and decode graphs per lane). Buffers and caches made through a lane
     * are used through that lane. Lane 0 is this backend; closing it closes its lanes. The CPU
     * backend has no queues to split (its lanes are threads), so every lane is itself.
     */
    default Backend lane(int index) {
        if (index < 0) throw new IllegalArgumentException("lane index must be >= 0, got " + index);
        return this;
    }

    /** A KV cache for {@code layers} layers of {@code capacity} positions of {@code kvDim} keys and values. */
    KVCache allocateKV(int layers, int capacity, int kvDim);

    /**
     * Copies the keys and values of positions [srcPos, srcPos + n) of every layer of {@code src} to
     * positions [dstPos, dstPos + n) of {@code dst} (two caches of this backend with the same layers
     * and kvDim): how a prefix cache hands computed positions to a new sequence.
     */
    void copyKV(KVCache src, int srcPos, KVCache dst, int dstPos, int n);

    @Override
    void close();
}
