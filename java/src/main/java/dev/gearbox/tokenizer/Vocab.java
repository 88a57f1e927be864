package dev.gearbox.tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.BitSet;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * A vocabulary as llama.cpp's llama_vocab holds it after loading: texts, scores, types (with
 * llama.cpp's by-text overrides applied), the special ids, the end-of-generation set, and the
 * special tokens in the order the special-token splitter tries them.
 */
final class Vocab {
    /** Token texts that llama.cpp takes for an end-of-turn token when no eot id is given, in priority order. */
    static final List<String> EOT_TEXTS = List.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>",
            "<|end_of_text|>", "<EOT>", "_<EOT>", "<｜end▁of▁sentence｜>", "<end_of_utterance>");
    /**
     * Token texts that llama.cpp always treats as end of generation (llama-vocab.cpp, "special_eog_ids"):
     * end-of-turn markers of Llama 3 ({@code <|eot_id|>}, {@code <|eom_id|>}), ChatML, Phi, gpt-oss
     * ({@code <|return|>}, {@code <|call|>}), Gemma, CodeLlama ({@code <EOT>}), SmolDocling. EOS, EOT
     * and EOM by id are added to these. (Checked against llama.cpp's load log for Qwen3: exactly
     * {@code <|endoftext|>}, {@code <|im_end|>}, {@code <|fim_pad|>}, {@code <|repo_name|>}, {@code <|file_sep|>};
     * Qwen3's vocabulary has a plain {@code </s>} token, which therefore is not on this list.)
     */
    static final List<String> EOG_TEXTS = List.of("<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>",
            "<end_of_turn>", "<|endoftext|>", "<|eom_id|>", "<EOT>", "_<EOT>", "<|end_of_text|>", "<end_of_utterance>");
    /** Fill-in-the-middle pad/repo/file-separator tokens, which llama.cpp also counts as end of generation. */
    static final List<String> FIM_EOG_TEXTS = List.of("<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>",
            "<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>", "<|file_sep|>");

    final String[] texts;
    final float[] scores;
    final TokenType[] types;
    /** Text to id; when two tokens share a text the later id wins, as in llama.cpp's token_to_id. */
    final Map<String, Integer> ids;
    final int bos, eos, eot, eom, unk, pad;
    final boolean addBos, addEos;
    final BitSet eog = new BitSet();
    /** Control, user-defined and unknown tokens, longest text (in UTF-8 bytes) first. */
    final int[] specialByLength;

    Vocab(String[] texts, float[] scores, TokenType[] types, int bos, int eos, int eot, int eom, int unk, int pad,
          boolean addBos, boolean addEos) {
        int n = texts.length;
        this.texts = texts.clone();
        this.scores = scores;
        this.types = types.clone();
        this.ids = new HashMap<>(n * 2);
        for (int i = 0; i < n; i++) {
            if (this.texts[i].isEmpty()) this.texts[i] = "[EMPTY_" + i + "]"; // llama.cpp's name for empty entries
            ids.put(this.texts[i], i);
        }
        this.bos = bos;
        this.eos = eos;
        this.unk = unk;
        this.pad = pad;
        this.addBos = addBos;
        this.addEos = addEos;
        if (eot < 0) eot = firstByText(EOT_TEXTS, true);
        if (eom < 0) eom = firstByText(List.of("<|eom_id|>"), true);
        this.eot = eot;
        this.eom = eom;
        for (String t : FIM_EOG_TEXTS) {
            Integer id = ids.get(t);
            if (id != null) {
                eog.set(id);
                this.types[id] = TokenType.CONTROL;
            }
        }
        for (String t : EOG_TEXTS) {
            Integer id = ids.get(t);
            if (id != null) {
                eog.set(id);
                this.types[id] = TokenType.CONTROL; // llama.cpp overrides the type of control-looking tokens
            }
        }
        for (int id : new int[] {eos, eot, eom}) if (id >= 0) eog.set(id);
        // gpt-oss (o200k_harmony) ends each message with <|end|> but the turn only with <|return|> or
        // <|call|>: when both are there, llama.cpp takes <|end|> off the list and renders it.
        if (eogHas("<|end|>") && eogHas("<|return|>") && eogHas("<|call|>")) {
            int end = ids.get("<|end|>");
            eog.clear(end);
            this.types[end] = TokenType.USER_DEFINED;
        }
        // llama.cpp always renders gpt-oss's channel markers, by making them user-defined.
        for (String t : List.of("<|channel|>", "<|message|>", "<|start|>", "<|constrain|>")) {
            Integer id = ids.get(t);
            if (id != null) this.types[id] = TokenType.USER_DEFINED;
        }

        List<Integer> special = new ArrayList<>();
        int[] byteLen = new int[n];
        for (int i = 0; i < n; i++) {
            TokenType t = this.types[i];
            if (t == TokenType.CONTROL || t == TokenType.USER_DEFINED || t == TokenType.UNKNOWN) {
                special.add(i);
                byteLen[i] = utf8Length(this.texts[i]);
            }
        }
        special.sort(Comparator.comparingInt((Integer i) -> -byteLen[i]).thenComparingInt(i -> i));
        specialByLength = special.stream().mapToInt(Integer::intValue).toArray();
    }

    private boolean eogHas(String text) {
        Integer id = ids.get(text);
        return id != null && eog.get(id);
    }

    private int firstByText(List<String> candidates, boolean makeControl) {
        for (String t : candidates) {
            Integer id = ids.get(t);
            if (id != null) {
                if (makeControl) types[id] = TokenType.CONTROL;
                return id;
            }
        }
        return -1;
    }

    int size() { return texts.length; }

    /** The id of a token text, or -1. */
    int id(String text) {
        Integer id = ids.get(text);
        return id == null ? -1 : id;
    }

    static int utf8Length(String s) {
        int len = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) len += 1;
            else if (c < 0x800) len += 2;
            else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                len += 4;
                i++;
            } else len += 3;
        }
        return len;
    }

    @Override
    public String toString() {
        return "Vocab[" + texts.length + " tokens, bos=" + bos + ", eos=" + eos + ", eog=" + eog + ", specials="
                + Arrays.stream(specialByLength).limit(5).mapToObj(i -> texts[i]).toList() + "...]";
    }
}
