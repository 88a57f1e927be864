package dev.gearbox.gguf.synth;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * A SentencePiece-style ("llama" tokenizer model) vocabulary that llama.cpp accepts: {@code <unk>},
 * {@code <s>}, {@code </s>}, the 256 byte-fallback tokens {@code <0x00>..<0xFF>}, then made-up
 * pieces (common words, letters, n-grams, with and without the {@code ▁} word marker) whose scores
 * descend like a trained model's. Deterministic and independent of the seed.
 */
public final class SyntheticVocab {
    /** llama.cpp token types (llama_token_type). */
    public static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, BYTE = 6;
    public static final int UNK_ID = 0, BOS_ID = 1, EOS_ID = 2, FIRST_BYTE_ID = 3;
    /** Specials plus byte tokens: the smallest vocabulary that can encode any text. */
    public static final int MIN_SIZE = 3 + 256;

    private static final String SPACE = "\u2581";
    private static final List<String> WORDS = List.of(
            "the", "a", "and", "to", "was", "he", "she", "it", "of", "in", "her", "his", "they", "is", "on", "that",
            "with", "said", "day", "Once", "upon", "time", "there", "little", "girl", "boy", "named", "Lily", "Tom",
            "play", "happy", "big", "friend", "saw", "wanted", "mom", "very", "had", "not", "you", "for", "but", "so",
            "one", "went", "He", "She", "The", "They", "I", "we", "all", "at", "be", "can", "do", "go", "like", "up");

    private final String[] tokens;
    private final double[] scores;
    private final long[] types;

    public SyntheticVocab(int size) {
        if (size < MIN_SIZE) throw new IllegalArgumentException("vocabulary size " + size + " is below the minimum " + MIN_SIZE + " (3 specials + 256 bytes)");
        tokens = new String[size];
        scores = new double[size];
        types = new long[size];
        set(UNK_ID, "<unk>", UNKNOWN);
        set(BOS_ID, "<s>", CONTROL);
        set(EOS_ID, "</s>", CONTROL);
        for (int b = 0; b < 256; b++) set(FIRST_BYTE_ID + b, String.format("<0x%02X>", b), BYTE);
        int next = MIN_SIZE;
        for (String piece : fillers(size - MIN_SIZE)) {
            tokens[next] = piece;
            scores[next] = -(next - MIN_SIZE + 1);   // strictly descending, as SentencePiece log-probabilities are
            types[next] = NORMAL;
            next++;
        }
    }

    private void set(int id, String piece, int type) {
        tokens[id] = piece;
        types[id] = type;
    }

    /** {@code n} distinct pieces, most "frequent" first. */
    private static Set<String> fillers(int n) {
        Set<String> out = new LinkedHashSet<>();
        if (n == 0) return out;
        out.add(SPACE);
        for (String w : WORDS) { if (out.size() >= n) return out; out.add(SPACE + w); }
        String letters = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.,!?'\"-:;()";
        for (char c : letters.toCharArray()) { if (out.size() >= n) return out; out.add(String.valueOf(c)); }
        for (char c : letters.toCharArray()) { if (out.size() >= n) return out; out.add(SPACE + c); }
        // Then lowercase n-grams of growing length, each with and without the word marker.
        String lower = "etaoinshrdlcumwfgypbvkjxqz"; // by English frequency, so early pieces look plausible
        for (int len = 2; ; len++) {
            int[] idx = new int[len];
            while (true) {
                StringBuilder sb = new StringBuilder(len);
                for (int i : idx) sb.append(lower.charAt(i));
                String g = sb.toString();
                out.add(g);
                if (out.size() >= n) return out;
                out.add(SPACE + g);
                if (out.size() >= n) return out;
                int k = len - 1;
                while (k >= 0 && ++idx[k] == lower.length()) idx[k--] = 0;
                if (k < 0) break;
            }
        }
    }

    public int size() { return tokens.length; }
    public String[] tokens() { return tokens.clone(); }
    public double[] scores() { return scores.clone(); }
    public long[] types() { return types.clone(); }
}
