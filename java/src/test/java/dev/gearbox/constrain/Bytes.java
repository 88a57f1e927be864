package dev.gearbox.constrain;

import java.nio.charset.StandardCharsets;

/** Runs a grammar's recognizer over raw bytes, for tests that do not need a tokenizer. */
final class Bytes {
    private Bytes() {}

    /** Whether the whole text is a sentence of the grammar. */
    static boolean accepts(Grammar g, String text) {
        return accepts(g, text.getBytes(StandardCharsets.UTF_8));
    }

    static boolean accepts(Grammar g, byte[] bytes) {
        Recognizer r = new Recognizer(g);
        return r.walk(r.initial(), bytes).accepting;
    }

    /** Whether the text can still be continued (or is) a sentence of the grammar. */
    static boolean isPrefix(Grammar g, String text) {
        return isPrefix(g, text.getBytes(StandardCharsets.UTF_8));
    }

    static boolean isPrefix(Grammar g, byte[] bytes) {
        Recognizer r = new Recognizer(g);
        return r.walk(r.initial(), bytes) != r.dead;
    }

    static byte[] of(int... values) {
        byte[] b = new byte[values.length];
        for (int i = 0; i < values.length; i++) b[i] = (byte) values[i];
        return b;
    }
}
