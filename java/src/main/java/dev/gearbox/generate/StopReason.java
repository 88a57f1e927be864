package dev.gearbox.generate;

/** Why generation ended. {@link #label()} is the stable name used in JSON output. */
public enum StopReason {
    /** The model produced an end-of-generation token (EOS, EOT, ...). */
    END_OF_GENERATION("eog", "eos"),
    /** The requested number of tokens was generated. */
    MAX_TOKENS("max_tokens", "max_tokens"),
    /** A stop string appeared in the text. */
    STOP_STRING("stop_string", "stop_string"),
    /** The KV cache has no room for another token. */
    CONTEXT_FULL("context_full", "context");

    private final String label, hopLabel;

    StopReason(String label, String hopLabel) {
        this.label = label;
        this.hopLabel = hopLabel;
    }

    /** The name a ladder hop's {@code reason} uses (docs/server.md): eos, max_tokens, stop_string, context. */
    public String hopLabel() {
        return hopLabel;
    }

    public String label() {
        return label;
    }
}
