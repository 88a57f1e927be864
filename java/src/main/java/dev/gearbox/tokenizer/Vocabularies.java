package dev.gearbox.tokenizer;

/**
 * Whether two tokenizers share one vocabulary: what an ensemble (which adds the members'
 * log-probabilities token by token) and an escalation that keeps the partial answer's token ids need.
 */
public final class Vocabularies {
    private Vocabularies() {}

    /** Null when the two tokenizers have the same token list and BOS/EOS, else what differs (for messages). */
    public static String difference(Tokenizer a, Tokenizer b) {
        if (a.vocabSize() != b.vocabSize()) return a.vocabSize() + " vs " + b.vocabSize() + " tokens";
        for (int i = 0; i < a.vocabSize(); i++) {
            if (!a.tokenText(i).equals(b.tokenText(i))) return "token " + i + " is '" + a.tokenText(i) + "' vs '" + b.tokenText(i) + "'";
        }
        if (a.eos() != b.eos() || a.bos() != b.bos()) return "different BOS/EOS ids";
        return null;
    }

    public static boolean same(Tokenizer a, Tokenizer b) {
        return a == b || difference(a, b) == null;
    }
}
