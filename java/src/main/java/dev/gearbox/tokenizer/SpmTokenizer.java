package dev.gearbox.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.PriorityQueue;

/**
 * llama.cpp's SentencePiece-style tokenizer ({@code tokenizer.ggml.model = llama}): spaces become
 * U+2581, the text starts as one symbol per character, and adjacent symbols are merged while their
 * concatenation is a token, highest score first (leftmost on ties). A merge only ever forms a token,
 * so the symbols left at the end are tokens or single characters; characters that are not tokens
 * become their UTF-8 bytes as {@code <0xXX>} tokens. (llama.cpp keeps a merge history to split
 * non-token symbols, which for that reason never comes into play; we do without it.)
 */
public final class SpmTokenizer extends VocabTokenizer {
    static final char SPACE_MARK = '\u2581';

    private final boolean addSpacePrefix;
    private final int[] byteTokens = new int[256];

    SpmTokenizer(Vocab vocab, boolean addSpacePrefix) {
        super(vocab);
        this.addSpacePrefix = addSpacePrefix;
        for (int b = 0; b < 256; b++) {
            int id = vocab.id(String.format("<0x%02X>", b));
            // llama.cpp falls back to a token spelling the byte itself (only possible for ASCII).
            if (id < 0 && b < 0x80) id = vocab.id(String.valueOf((char) b));
            byteTokens[b] = id;
        }
    }

    public boolean addsSpacePrefix() { return addSpacePrefix; }

    /** One symbol: a range of the text, linked to its live neighbours. */
    private static final class Sym {
        int start, len, prev, next, id;
    }

    private record Bigram(int left, int right, float score, int len, int id) {}

    @Override
    void encodeText(String raw, boolean afterSpecial, IntList out) {
        String text = ((addSpacePrefix && afterSpecial) ? " " + raw : raw).replace(' ', SPACE_MARK);
        int n = text.length();
        Sym[] syms = new Sym[n];
        int count = 0;
        for (int i = 0; i < n; ) {
            int cl = Character.charCount(text.codePointAt(i));
            Sym s = new Sym();
            s.start = i;
            s.len = Math.min(cl, n - i);
            s.prev = count - 1;
            s.id = vocab.id(text.substring(i, i + s.len));
            i += s.len;
            s.next = i == n ? -1 : count + 1;
            syms[count++] = s;
        }
        if (count == 0) return;

        PriorityQueue<Bigram> queue = new PriorityQueue<>(Math.max(1, count), (a, b) -> {
            int c = Float.compare(b.score, a.score);
            return c != 0 ? c : Integer.compare(a.left, b.left);
        });
        for (int i = 1; i < count; i++) tryAddBigram(text, syms, i - 1, i, queue);

        while (!queue.isEmpty()) {
            Bigram bg = queue.poll();
            Sym left = syms[bg.left], right = syms[bg.right];
            if (left.len == 0 || right.len == 0 || left.len + right.len != bg.len) continue; // stale
            left.len += right.len;
            left.id = bg.id;
            right.len = 0;
            left.next = right.next;
            if (right.next >= 0) syms[right.next].prev = bg.left;
            tryAddBigram(text, syms, left.prev, bg.left, queue);
            tryAddBigram(text, syms, bg.left, left.next, queue);
        }
        for (int i = 0; i != -1; i = syms[i].next) {
            Sym s = syms[i];
            if (s.id >= 0) out.add(s.id);
            else byteFallback(text.substring(s.start, s.start + s.len), out);
        }
    }

    private void tryAddBigram(String text, Sym[] syms, int left, int right, PriorityQueue<Bigram> queue) {
        if (left == -1 || right == -1) return;
        int len = syms[left].len + syms[right].len;
        int id = vocab.id(text.substring(syms[left].start, syms[left].start + len));
        if (id < 0) return;
        queue.add(new Bigram(left, right, vocab.scores[id], len, id));
    }

    private void byteFallback(String piece, IntList out) {
        for (byte b : piece.getBytes(StandardCharsets.UTF_8)) {
            int bt = byteTokens[b & 0xFF];
            if (bt < 0) bt = vocab.unk;
            if (bt < 0) throw new IllegalStateException(String.format("vocabulary has no token for byte 0x%02X and no unknown token", b & 0xFF));
            out.add(bt);
        }
    }

    @Override
    byte[] normalPiece(int id) {
        if (vocab.types[id] == TokenType.BYTE) {
            String t = vocab.texts[id];
            if (t.length() == 6 && t.startsWith("<0x") && t.endsWith(">")) {
                return new byte[] {(byte) Integer.parseInt(t.substring(3, 5), 16)};
            }
        }
        return vocab.texts[id].replace(SPACE_MARK, ' ').getBytes(StandardCharsets.UTF_8);
    }
}
