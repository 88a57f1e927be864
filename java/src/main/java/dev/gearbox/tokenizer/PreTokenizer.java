package dev.gearbox.tokenizer;

import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Splits text into words before byte-level BPE, as llama.cpp's unicode_regex_split does for a
 * {@code tokenizer.ggml.pre} type: each regex in turn splits every piece left by the previous one,
 * and the text between matches is kept as pieces of its own. A regex sees only its piece
 * (lookahead stops at the piece's end).
 */
public enum PreTokenizer {
    /** Llama 3: letters with one leading non-letter, digits in groups of up to three. */
    LLAMA3("(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
    /** Qwen2/2.5/3: as Llama 3 but every digit alone. */
    QWEN2("(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}"
            + "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"),
    /** The original GPT-2 split. */
    GPT2("'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)"),
    /** llama.cpp's fallback for {@code pre = default}: punctuation runs, the GPT-2 split, digit runs, digit triples. */
    DEFAULT("[\\p{P}\\$\\+<=>\\^~\\|]+",
            "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)",
            "\\p{N}+",
            "[0-9][0-9][0-9]");

    private final Pattern[] patterns;

    PreTokenizer(String... regexes) {
        patterns = new Pattern[regexes.length];
        // UNICODE_CHARACTER_CLASS: \s is Unicode White_Space, as in llama.cpp and the Rust regex crate.
        for (int i = 0; i < regexes.length; i++) patterns[i] = Pattern.compile(regexes[i], Pattern.UNICODE_CHARACTER_CLASS);
    }

    /**
     * The pre-tokenizer for a {@code tokenizer.ggml.pre} value, or null when we do not implement it.
     * A missing value means "default", as in llama.cpp.
     */
    public static PreTokenizer forName(String pre) {
        if (pre == null || pre.isEmpty()) return DEFAULT;
        return switch (pre) {
            case "default" -> DEFAULT;
            case "llama3", "llama-v3", "llama-bpe", "falcon3", "falcon-h1", "pixtral", "midm-2.0", "lfm2", "dbrx", "smaug-bpe" -> LLAMA3;
            case "qwen2", "deepseek-r1-qwen", "kormo", "megrez", "stablelm2", "hunyuan" -> QWEN2;
            case "gpt2", "gpt-2", "phi-2", "mpt", "olmo", "jais", "trillion", "gigachat", "jina-es", "jina-de", "jina-v2-es",
                 "jina-v2-de", "a.x-4.0", "mellum", "exaone4", "granite-docling" -> GPT2;
            default -> null;
        };
    }

    /** The words of {@code text}, in order; together they are exactly the text. */
    public List<String> split(String text) {
        List<int[]> pieces = new ArrayList<>();
        pieces.add(new int[] {0, text.length()});
        for (Pattern p : patterns) {
            List<int[]> next = new ArrayList<>(pieces.size() * 2);
            Matcher m = p.matcher(text);
            for (int[] piece : pieces) {
                int start = piece[0], end = piece[1];
                if (start == end) continue;
                m.region(start, end);
                int at = start;
                while (m.find()) {
                    if (m.end() == m.start()) continue; // no regex here matches empty; guard anyway
                    if (m.start() > at) next.add(new int[] {at, m.start()});
                    next.add(new int[] {m.start(), m.end()});
                    at = m.end();
                }
                if (at < end) next.add(new int[] {at, end});
            }
            pieces = next;
        }
        List<String> words = new ArrayList<>(pieces.size());
        for (int[] p : pieces) words.add(text.substring(p[0], p[1]));
        return words;
    }
}
