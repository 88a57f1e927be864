package dev.gearbox.tokenizer;

/** The GGUF {@code tokenizer.ggml.token_type} values (llama.cpp's llama_token_type). */
public enum TokenType {
    UNDEFINED, NORMAL, UNKNOWN, CONTROL, USER_DEFINED, UNUSED, BYTE;

    /** The type for a stored code; codes outside 0..6 read as UNDEFINED, as llama.cpp does. */
    public static TokenType of(long code) {
        return code >= 0 && code < values().length ? values()[(int) code] : UNDEFINED;
    }

    public int code() { return ordinal(); }
}
