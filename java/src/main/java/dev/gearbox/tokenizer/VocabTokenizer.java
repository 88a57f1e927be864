package dev.gearbox.tokenizer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * What the SentencePiece and byte-level BPE tokenizers share: the vocabulary, llama.cpp's
 * special-token splitting (tokenizer_st_partition), BOS/EOS handling and decoding.
 */
public abstract sealed class VocabTokenizer implements Tokenizer permits SpmTokenizer, BpeTokenizer {
    final Vocab vocab;

    VocabTokenizer(Vocab vocab) {
        this.vocab = vocab;
    }

    /** Tokenizes one stretch of plain text (no special tokens in it). {@code afterSpecial}: it starts the
     * input or follows a special token (SentencePiece then adds its leading space). */
    abstract void encodeText(String text, boolean afterSpecial, IntList out);

    /** The piece of a normal (or byte) token. */
    abstract byte[] normalPiece(int id);

    @Override
    public int vocabSize() { return vocab.size(); }

    @Override
    public int[] encode(String text, boolean addSpecial, boolean parseSpecial) {
        if (text == null) throw new IllegalArgumentException("text is null");
        text = replaceLoneSurrogates(text);
        IntList out = new IntList();
        if (addSpecial && vocab.addBos) {
            if (vocab.bos < 0) throw new IllegalStateException("the vocabulary asks for a BOS token but has none");
            out.add(vocab.bos);
        }
        boolean afterSpecial = true;
        for (Object f : partition(text, parseSpecial)) {
            if (f instanceof String s) {
                encodeText(s, afterSpecial, out);
                afterSpecial = false;
            } else {
                out.add((Integer) f);
                afterSpecial = true;
            }
        }
        if (addSpecial && vocab.addEos) {
            if (vocab.eos < 0) throw new IllegalStateException("the vocabulary asks for an EOS token but has none");
            out.add(vocab.eos);
        }
        return out.toArray();
    }

    /**
     * Splits text at the special tokens it spells: each is tried in turn, longest first, against every
     * plain-text piece left by the ones before. Without parseSpecial only user-defined tokens are split
     * out (llama.cpp and HF tokenizers both do that). Returns Strings (plain text) and Integers (ids).
     */
    List<Object> partition(String text, boolean parseSpecial) {
        List<Object> frags = new ArrayList<>();
        if (text.isEmpty()) return frags;
        frags.add(text);
        for (int id : vocab.specialByLength) {
            TokenType type = vocab.types[id];
            if (!parseSpecial && type != TokenType.USER_DEFINED) continue;
            String special = vocab.texts[id];
            if (!text.contains(special)) continue;
            List<Object> next = new ArrayList<>(frags.size() + 4);
            for (Object f : frags) {
                if (!(f instanceof String s)) {
                    next.add(f);
                    continue;
                }
                int from = 0;
                int at;
                while ((at = s.indexOf(special, from)) >= 0) {
                    if (at > from) next.add(s.substring(from, at));
                    next.add(id);
                    from = at + special.length();
                }
                if (from < s.length()) next.add(from == 0 ? s : s.substring(from));
            }
            frags = next;
        }
        return frags;
    }

    /** Java strings may hold unpaired surrogates; UTF-8 encoding turns them into '?', so do that up front. */
    private static String replaceLoneSurrogates(String s) {
        for (int i = 0; i < s.length(); i++) {
            if (Character.isSurrogate(s.charAt(i))) {
                return new String(s.getBytes(StandardCharsets.UTF_8), StandardCharsets.UTF_8);
            }
        }
        return s;
    }

    @Override
    public byte[] tokenBytes(int id) {
        return piece(id, true);
    }

    /**
     * The bytes llama.cpp's token_to_piece gives: control and unknown tokens as their text only when
     * {@code renderSpecial}, user-defined tokens as their text, normal tokens decoded, unused ones empty.
     */
    public byte[] piece(int id, boolean renderSpecial) {
        checkId(id);
        return switch (vocab.types[id]) {
            case CONTROL, UNKNOWN -> renderSpecial ? vocab.texts[id].getBytes(StandardCharsets.UTF_8) : new byte[0];
            case USER_DEFINED -> vocab.texts[id].getBytes(StandardCharsets.UTF_8);
            case NORMAL, BYTE -> normalPiece(id);
            case UNDEFINED, UNUSED -> new byte[0];
        };
    }

    @Override
    public String decode(int[] ids) {
        return decode(ids, true);
    }

    @Override
    public String decode(int[] ids, boolean renderSpecial) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(ids.length * 4);
        for (int id : ids) bytes.writeBytes(piece(id, renderSpecial));
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Override
    public String tokenText(int id) {
        checkId(id);
        return vocab.texts[id];
    }

    public TokenType tokenType(int id) {
        checkId(id);
        return vocab.types[id];
    }

    public float tokenScore(int id) {
        checkId(id);
        return vocab.scores[id];
    }

    @Override
    public int tokenId(String text) { return vocab.id(text); }

    @Override
    public int bos() { return vocab.bos; }

    @Override
    public int eos() { return vocab.eos; }

    /** The end-of-turn token (given or found by text as llama.cpp does), or -1. */
    public int eot() { return vocab.eot; }

    @Override
    public boolean addsBos() { return vocab.addBos; }

    @Override
    public boolean addsEos() { return vocab.addEos; }

    @Override
    public boolean isEndOfGeneration(int id) {
        return id >= 0 && vocab.eog.get(id);
    }

    @Override
    public boolean isControl(int id) {
        return id >= 0 && id < vocab.size() && vocab.types[id] == TokenType.CONTROL;
    }

    private void checkId(int id) {
        if (id < 0 || id >= vocab.size()) {
            throw new IllegalArgumentException("token id " + id + " is outside the vocabulary [0, " + vocab.size() + ")");
        }
    }
}
