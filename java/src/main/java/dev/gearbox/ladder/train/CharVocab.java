package dev.gearbox.ladder.train;

import java.io.IOException;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * The ladder's character vocabulary in SentencePiece layout, as issue 3 fixes it: {@code <unk>} 0,
 * {@code <s>} 1, {@code </s>} 2, the 256 byte tokens {@code <0x00>..<0xFF>}, then single characters.
 * With only single characters there is nothing to merge, so the tokenizer splits text into
 * characters and falls back to byte tokens for anything else.
 */
public final class CharVocab {
    /** llama.cpp token types. */
    static final int NORMAL = 1, UNKNOWN = 2, CONTROL = 3, BYTE = 6;
    public static final int UNK = 0, BOS = 1, EOS = 2, FIRST_CHAR = 3 + 256;

    private CharVocab() {}

    static void validate(List<String> tokens, Path source) throws IOException {
        if (tokens.size() <= FIRST_CHAR) throw new IOException(source + ": vocabulary has " + tokens.size() + " tokens, needs the " + FIRST_CHAR + " specials and byte tokens plus characters");
        expect(tokens, 0, "<unk>", source);
        expect(tokens, 1, "<s>", source);
        expect(tokens, 2, "</s>", source);
        for (int b = 0; b < 256; b++) expect(tokens, 3 + b, String.format("<0x%02X>", b), source);
        Set<String> seen = new HashSet<>();
        for (int i = FIRST_CHAR; i < tokens.size(); i++) {
            String t = tokens.get(i);
            if (t.codePointCount(0, t.length()) != 1) throw new IOException(source + ": token " + i + " '" + t + "' is not a single character");
            if (!seen.add(t)) throw new IOException(source + ": character '" + t + "' appears twice in the vocabulary");
        }
    }

    private static void expect(List<String> tokens, int id, String want, Path source) throws IOException {
        if (!tokens.get(id).equals(want)) throw new IOException(source + ": token " + id + " is '" + tokens.get(id) + "', expected '" + want + "'");
    }

    static long[] types(int size) {
        long[] t = new long[size];
        for (int i = 0; i < size; i++) t[i] = i == UNK ? UNKNOWN : i < 3 ? CONTROL : i < FIRST_CHAR ? BYTE : NORMAL;
        return t;
    }

    /** Scores: 0 for specials and bytes (as SentencePiece has them), then descending; unused by merges. */
    static double[] scores(int size) {
        double[] s = new double[size];
        for (int i = FIRST_CHAR; i < size; i++) s[i] = -(i - FIRST_CHAR + 1);
        return s;
    }
}
