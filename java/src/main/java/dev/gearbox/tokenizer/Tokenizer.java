package dev.gearbox.tokenizer;

/**
 * Text to token ids and back, as llama.cpp's tokenizers do it for the same vocabulary.
 * Built from a GGUF file's {@code tokenizer.ggml.*} metadata by {@link Tokenizers#fromGGUF}.
 */
public interface Tokenizer {

    /** Number of tokens in the vocabulary. */
    int vocabSize();

    /**
     * Token ids for {@code text}. {@code addSpecial}: add BOS/EOS as the metadata's
     * {@code add_bos_token}/{@code add_eos_token} flags (or the model type's defaults) say.
     * {@code parseSpecial}: text that spells a special or added token becomes that token.
     */
    int[] encode(String text, boolean addSpecial, boolean parseSpecial);

    /** The bytes a token stands for (special tokens: their text); may be part of a UTF-8 character. */
    byte[] tokenBytes(int id);

    /** The text of a sequence of tokens (special tokens as their text, invalid UTF-8 replaced). */
    String decode(int[] ids);

    /** The token's text as stored in the vocabulary. */
    String tokenText(int id);

    int bos();

    int eos();

    /** True for tokens that end generation (EOS, EOT, im_end, eom...). */
    boolean isEndOfGeneration(int id);

    /** True for control tokens (BOS, EOS, chat markers), which decode to nothing in plain text output. */
    boolean isControl(int id);

    /**
     * Like {@link #decode(int[])}, but with {@code renderSpecial == false} control tokens give no text
     * (llama.cpp's token_to_piece with special=false).
     */
    default String decode(int[] ids, boolean renderSpecial) {
        if (renderSpecial) return decode(ids);
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        for (int id : ids) if (!isControl(id)) out.writeBytes(tokenBytes(id));
        return out.toString(java.nio.charset.StandardCharsets.UTF_8);
    }

    /** The id of the token whose vocabulary text is exactly {@code text}, or -1. */
    default int tokenId(String text) {
        for (int i = 0; i < vocabSize(); i++) if (tokenText(i).equals(text)) return i;
        return -1;
    }

    /** Whether {@code encode(text, true, ...)} puts BOS first. */
    default boolean addsBos() { return true; }

    /** Whether {@code encode(text, true, ...)} appends EOS. */
    default boolean addsEos() { return false; }
}
