package dev.gearbox.model;

/**
 * The model families Gearbox runs. They share one forward pass and differ in a few switches,
 * all read from the GGUF metadata (never from the file name).
 */
public enum Architecture {
    /** Llama 2/3/3.x, Mistral, TinyLlama, SmolLM: GGML "normal" rope on adjacent pairs. */
    LLAMA("llama", false, false, false),
    /** Qwen2/2.5: biases on q, k and v; NeoX rope. */
    QWEN2("qwen2", true, false, true),
    /** Qwen3: per-head RMSNorm of q and k before rope; NeoX rope. */
    QWEN3("qwen3", false, true, true);

    private final String ggufName;
    private final boolean qkvBias;
    private final boolean qkNorm;
    private final boolean neoxRope;

    Architecture(String ggufName, boolean qkvBias, boolean qkNorm, boolean neoxRope) {
        this.ggufName = ggufName;
        this.qkvBias = qkvBias;
        this.qkNorm = qkNorm;
        this.neoxRope = neoxRope;
    }

    public String ggufName() { return ggufName; }
    public boolean qkvBias() { return qkvBias; }
    public boolean qkNorm() { return qkNorm; }
    public boolean neoxRope() { return neoxRope; }

    /** The architecture named by {@code general.architecture}, or null when Gearbox does not run it. */
    public static Architecture byGgufName(String name) {
        for (Architecture a : values()) if (a.ggufName.equals(name)) return a;
        return null;
    }

    public static String supportedNames() {
        StringBuilder sb = new StringBuilder();
        for (Architecture a : values()) sb.append(sb.isEmpty() ? "" : ", ").append(a.ggufName);
        return sb.toString();
    }
}
