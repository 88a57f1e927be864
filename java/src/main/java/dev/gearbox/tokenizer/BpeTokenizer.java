package dev.gearbox.tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import java.util.PriorityQueue;

/**
 * llama.cpp's byte-level BPE tokenizer ({@code tokenizer.ggml.model = gpt2}): the text is split
 * into words by the pre-tokenizer, each word's UTF-8 bytes are mapped to GPT-2's byte characters,
 * and adjacent symbols are merged by merge rank (lowest first, leftmost on ties).
 */
public final class BpeTokenizer extends VocabTokenizer {
    private final PreTokenizer pre;
    /** (left id, right id) to merge rank, for merges whose parts are tokens (all of them in real vocabularies). */
    private final LongIntMap pairRanks;
    /** "left\0right" to rank for merges whose parts are not tokens, looked up by text as llama.cpp does. */
    private final Map<String, Integer> textRanks = new HashMap<>();
    /** Llama 3 style: a word that is a token as a whole is taken as is, without merging. */
    private final boolean ignoreMerges;

    BpeTokenizer(Vocab vocab, String[] merges, PreTokenizer pre, boolean ignoreMerges) {
        super(vocab);
        this.pre = pre;
        this.ignoreMerges = ignoreMerges;
        this.pairRanks = new LongIntMap(merges.length);
        for (int i = 0; i < merges.length; i++) {
            String m = merges[i];
            int sp = m.indexOf(' ', 1); // as llama.cpp: the first space after the first character
            String left = sp < 0 ? "" : m.substring(0, sp), right = sp < 0 ? "" : m.substring(sp + 1);
            int l = vocab.id(left), r = vocab.id(right);
            // The first of duplicate merges wins (llama.cpp's std::map::emplace).
            if (l >= 0 && r >= 0) pairRanks.putIfAbsent(pair(l, r), i);
            else textRanks.putIfAbsent(left + '\0' + right, i);
        }
    }

    public PreTokenizer preTokenizer() { return pre; }

    private record Bigram(int left, int right, int rank, int len) {}

    @Override
    void encodeText(String text, boolean afterSpecial, IntList out) {
        for (String word : pre.split(text)) encodeWord(ByteUnicode.encode(word.getBytes(StandardCharsets.UTF_8)), out);
    }

    private void encodeWord(String word, IntList out) {
        int n = word.length();
        if (n == 0) return;
        if (ignoreMerges) {
            int id = vocab.id(word);
            if (id >= 0) {
                out.add(id);
                return;
            }
        }
        // One symbol per byte character; symbols only grow to the right, so a start never moves.
        int[] len = new int[n], prev = new int[n], next = new int[n], id = new int[n];
        for (int i = 0; i < n; i++) {
            len[i] = 1;
            id[i] = vocab.id(String.valueOf(word.charAt(i)));
            prev[i] = i - 1;
            next[i] = i + 1 == n ? -1 : i + 1;
        }
        PriorityQueue<Bigram> queue = new PriorityQueue<>(Math.max(1, n), (a, b) ->
                a.rank != b.rank ? Integer.compare(a.rank, b.rank) : Integer.compare(a.left, b.left));
        for (int i = 1; i < n; i++) addBigram(word, len, id, i - 1, i, queue);
        while (!queue.isEmpty()) {
            Bigram bg = queue.poll();
            if (len[bg.left] == 0 || len[bg.right] == 0 || len[bg.left] + len[bg.right] != bg.len) continue; // stale
            len[bg.left] += len[bg.right];
            len[bg.right] = 0;
            id[bg.left] = vocab.id(word.substring(bg.left, bg.left + len[bg.left]));
            next[bg.left] = next[bg.right];
            if (next[bg.right] >= 0) prev[next[bg.right]] = bg.left;
            addBigram(word, len, id, prev[bg.left], bg.left, queue);
            addBigram(word, len, id, bg.left, next[bg.left], queue);
        }
        for (int i = 0; i != -1; i = next[i]) {
            if (id[i] >= 0) {
                out.add(id[i]);
            } else {
                String piece = word.substring(i, i + len[i]);
                // llama.cpp's fallback: a token for each single-byte (ASCII) character, others dropped.
                for (int k = 0; k < piece.length(); k++) {
                    char c = piece.charAt(k);
                    if (c < 0x80) {
                        int bid = vocab.id(String.valueOf(c));
                        if (bid >= 0) out.add(bid);
                    }
                }
            }
        }
    }

    private void addBigram(String word, int[] len, int[] id, int left, int right, PriorityQueue<Bigram> queue) {
        if (left < 0 || right < 0) return;
        int rank;
        if (id[left] >= 0 && id[right] >= 0) {
            rank = pairRanks.get(pair(id[left], id[right]));
        } else if (textRanks.isEmpty()) {
            return;
        } else {
            Integer r = textRanks.get(word.substring(left, left + len[left]) + '\0' + word.substring(right, right + len[right]));
            rank = r == null ? -1 : r;
        }
        if (rank >= 0) queue.add(new Bigram(left, right, rank, len[left] + len[right]));
    }

    private static long pair(int left, int right) {
        return ((long) left << 32) | (right & 0xFFFFFFFFL);
    }

    @Override
    byte[] normalPiece(int id) {
        String t = vocab.texts[id];
        byte[] out = new byte[t.length() * 3];
        int n = 0;
        for (int i = 0; i < t.length(); i++) {
            int b = ByteUnicode.toByte(t.charAt(i));
            if (b >= 0) {
                out[n++] = (byte) b;
            } else {
                // Not a byte character (a malformed vocabulary): keep the character's own UTF-8.
                int cp = t.codePointAt(i);
                byte[] u = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
                if (n + u.length > out.length) out = java.util.Arrays.copyOf(out, out.length * 2 + u.length);
                System.arraycopy(u, 0, out, n, u.length);
                n += u.length;
                i += Character.charCount(cp) - 1;
            }
        }
        return java.util.Arrays.copyOf(out, n);
    }
}
