package dev.gearbox.tokenizer;

import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.gguf.GGUFFormatException;

/** Interim: replaced by the tokenizer branch (SPM and BPE). */
public final class Tokenizers {
    private Tokenizers() {}

    public static Tokenizer fromGGUF(GGUFFile f) throws GGUFFormatException {
        throw new GGUFFormatException(f.path(), -1, "tokenizers are not merged yet");
    }
}
