package dev.gearbox.backend;

/**
 * Rotary embedding settings. {@code neox} rotates pairs (i, i + dim/2) as GPT-NeoX, Qwen and
 * Llama-family HF conversions with permuted weights do not; GGML's "normal" mode (llama in GGUF)
 * rotates adjacent pairs (2i, 2i+1). {@code freqs[i]} is the inverse frequency of pair i, with any
 * Llama 3 scaling already applied; only the first {@code dims} values of each head rotate.
 */
public record Rope(boolean neox, int dims, float[] freqs) {

    /** Inverse frequencies {@code base^(-2i/dims)}. */
    public static float[] frequencies(int dims, double base) {
        float[] f = new float[dims / 2];
        for (int i = 0; i < f.length; i++) f[i] = (float) Math.pow(base, -2.0 * i / dims);
        return f;
    }
}
