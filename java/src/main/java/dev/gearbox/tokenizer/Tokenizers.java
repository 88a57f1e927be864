package dev.gearbox.tokenizer;

import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.gguf.GGUFFormatException;

/** Builds the tokenizer a GGUF file's {@code tokenizer.ggml.*} metadata describes. */
public final class Tokenizers {
    public static final String MODEL = "tokenizer.ggml.model";
    public static final String PRE = "tokenizer.ggml.pre";
    public static final String TOKENS = "tokenizer.ggml.tokens";
    public static final String SCORES = "tokenizer.ggml.scores";
    public static final String TOKEN_TYPE = "tokenizer.ggml.token_type";
    public static final String MERGES = "tokenizer.ggml.merges";
    public static final String BOS_ID = "tokenizer.ggml.bos_token_id";
    public static final String EOS_ID = "tokenizer.ggml.eos_token_id";
    public static final String EOT_ID = "tokenizer.ggml.eot_token_id";
    public static final String EOM_ID = "tokenizer.ggml.eom_token_id";
    public static final String UNK_ID = "tokenizer.ggml.unknown_token_id";
    public static final String PAD_ID = "tokenizer.ggml.padding_token_id";
    public static final String ADD_BOS = "tokenizer.ggml.add_bos_token";
    public static final String ADD_EOS = "tokenizer.ggml.add_eos_token";
    public static final String ADD_SPACE_PREFIX = "tokenizer.ggml.add_space_prefix";
    public static final String CHAT_TEMPLATE = "tokenizer.chat_template";

    private Tokenizers() {}

    /**
     * The tokenizer of {@code f}. Supported models: {@code llama} (SentencePiece) and {@code gpt2}
     * (byte-level BPE, with the pre-tokenizers of {@link PreTokenizer#forName}). Defaults for absent
     * keys are llama.cpp's: SPM adds BOS (id 1), EOS id 2, unknown id 0 and a leading space; BPE adds
     * BOS only for the Llama 3 family of {@code pre} values and has BOS = EOS = 11 unless given.
     * A special-token id outside the vocabulary (files write 0xFFFFFFFF for "none") keeps the default.
     */
    public static VocabTokenizer fromGGUF(GGUFFile f) throws GGUFFormatException {
        String model = f.getString(MODEL, null);
        if (model == null) throw err(f, "missing metadata '" + MODEL + "': the file has no tokenizer");
        String[] tokens = f.getStrings(TOKENS);
        if (tokens == null) throw err(f, "missing metadata '" + TOKENS + "' (tokenizer model '" + model + "')");
        if (tokens.length == 0) throw err(f, "metadata '" + TOKENS + "' is empty");
        int n = tokens.length;

        double[] scoresD = f.getDoubles(SCORES);
        if (scoresD != null && scoresD.length != n) {
            throw err(f, "metadata '" + SCORES + "' has " + scoresD.length + " entries but '" + TOKENS + "' has " + n);
        }
        float[] scores = new float[n];
        if (scoresD != null) for (int i = 0; i < n; i++) scores[i] = (float) scoresD[i];

        long[] typeCodes = f.getLongs(TOKEN_TYPE);
        if (typeCodes != null && typeCodes.length != n) {
            throw err(f, "metadata '" + TOKEN_TYPE + "' has " + typeCodes.length + " entries but '" + TOKENS + "' has " + n);
        }
        TokenType[] types = new TokenType[n];
        for (int i = 0; i < n; i++) types[i] = typeCodes == null ? TokenType.NORMAL : TokenType.of(typeCodes[i]);

        String pre = f.getString(PRE, null);
        return switch (model) {
            case "llama" -> {
                Vocab v = vocab(f, tokens, scores, types, 1, 2, 0, true);
                yield new SpmTokenizer(v, f.getBool(ADD_SPACE_PREFIX, true));
            }
            case "gpt2" -> {
                String[] merges = f.getStrings(MERGES);
                if (merges == null) throw err(f, "missing metadata '" + MERGES + "', which a 'gpt2' (byte-level BPE) tokenizer needs");
                PreTokenizer pt = PreTokenizer.forName(pre);
                if (pt == null) {
                    throw err(f, "unknown pre-tokenizer '" + pre + "' in '" + PRE + "' (supported: default, gpt2/gpt-2, llama3/llama-bpe and"
                            + " its aliases, qwen2/deepseek-r1-qwen and aliases)");
                }
                boolean llama3Family = pt == PreTokenizer.LLAMA3 && !"dbrx".equals(pre) && !"smaug-bpe".equals(pre);
                Vocab v = vocab(f, tokens, scores, types, 11, 11, -1, llama3Family);
                yield new BpeTokenizer(v, merges, pt, llama3Family);
            }
            default -> throw err(f, "unknown tokenizer model '" + model + "' in '" + MODEL + "' (supported: llama = SentencePiece, gpt2 = byte-level BPE)");
        };
    }

    private static Vocab vocab(GGUFFile f, String[] tokens, float[] scores, TokenType[] types, int defBos, int defEos, int defUnk,
                               boolean defAddBos) throws GGUFFormatException {
        int n = tokens.length;
        if (defBos >= n) defBos = -1;
        if (defEos >= n) defEos = -1;
        if (defUnk >= n) defUnk = -1;
        return new Vocab(tokens, scores, types,
                id(f, BOS_ID, defBos, n), id(f, EOS_ID, defEos, n), id(f, EOT_ID, -1, n), id(f, EOM_ID, -1, n),
                id(f, UNK_ID, defUnk, n), id(f, PAD_ID, -1, n),
                f.getBool(ADD_BOS, defAddBos), f.getBool(ADD_EOS, false));
    }

    private static int id(GGUFFile f, String key, int def, int n) throws GGUFFormatException {
        if (!f.has(key)) return def;
        long v = f.getLong(key, def);
        // Real files store "none" as 0xFFFFFFFF; llama.cpp then keeps the default id, and so do we.
        return v < 0 || v >= n ? def : (int) v;
    }

    private static GGUFFormatException err(GGUFFile f, String msg) {
        return new GGUFFormatException(f.path(), -1, msg);
    }
}
