package dev.gearbox.generate;

/** Why generation ended. {@link #label()} is the stable name used in JSON output. */
public enum StopReason {
    /** The model produced an end-of-generation token (EOS, EOT, ...). */
    END_OF_GENERATION("eog"),
    /** The requested number of tokens was generated. */
    MAX_TOKENS("max_tokens"),
    /** A stop string appeared in the text. */
    STOP_STRING("stop_string"),
    /** The KV cache has no room for another token. */
    CONTEXT_FULL("context_full");

    private final String label;

    StopReason(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }
}
