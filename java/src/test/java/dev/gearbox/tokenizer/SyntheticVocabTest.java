package dev.gearbox.tokenizer;

import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.gguf.GGUFFormatException;
import dev.gearbox.gguf.GGUFValue;
import dev.gearbox.gguf.GGUFWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Small hand-made vocabularies that pin down one rule each, and the errors for bad metadata. */
class SyntheticVocabTest {
    @TempDir
    Path dir;

    // ---- helpers -------------------------------------------------------------------------

    /** An SPM vocab: <unk>, <s>, </s>, the 256 byte tokens, then {@code extra} (text, score, type). */
    static GGUFWriter spm(Object... extra) {
        List<String> tokens = new ArrayList<>(List.of("<unk>", "<s>", "</s>"));
        List<Double> scores = new ArrayList<>(List.of(0.0, 0.0, 0.0));
        List<Long> types = new ArrayList<>(List.of(2L, 3L, 3L));
        for (int b = 0; b < 256; b++) {
            tokens.add(String.format("<0x%02X>", b));
            scores.add(0.0);
            types.add(6L);
        }
        for (int i = 0; i < extra.length; i += 3) {
            tokens.add((String) extra[i]);
            scores.add(((Number) extra[i + 1]).doubleValue());
            types.add(((Number) extra[i + 2]).longValue());
        }
        GGUFWriter w = new GGUFWriter();
        w.putString(Tokenizers.MODEL, "llama");
        w.put(Tokenizers.TOKENS, GGUFValue.strings(tokens.toArray(String[]::new)));
        w.put(Tokenizers.SCORES, GGUFValue.f32s(scores.stream().mapToDouble(Double::doubleValue).toArray()));
        w.put(Tokenizers.TOKEN_TYPE, GGUFValue.i32s(types.stream().mapToLong(Long::longValue).toArray()));
        return w;
    }

    static final int BYTE0 = 3, FIRST = 259;

    /** A byte-level BPE vocab: the 256 byte characters, then {@code extra} tokens, with {@code merges}. */
    static GGUFWriter bpe(String pre, List<String> extra, List<String> merges) {
        List<String> tokens = new ArrayList<>();
        for (int b = 0; b < 256; b++) tokens.add(ByteUnicode.encode(new byte[] {(byte) b}));
        tokens.addAll(extra);
        long[] types = new long[tokens.size()];
        java.util.Arrays.fill(types, 1);
        GGUFWriter w = new GGUFWriter();
        w.putString(Tokenizers.MODEL, "gpt2");
        if (pre != null) w.putString(Tokenizers.PRE, pre);
        w.put(Tokenizers.TOKENS, GGUFValue.strings(tokens.toArray(String[]::new)));
        w.put(Tokenizers.TOKEN_TYPE, GGUFValue.i32s(types));
        w.put(Tokenizers.MERGES, GGUFValue.strings(merges.toArray(String[]::new)));
        return w;
    }

    VocabTokenizer load(GGUFWriter w) throws IOException {
        Path p = dir.resolve("v" + System.nanoTime() + ".gguf");
        w.write(p);
        try (GGUFFile f = GGUFFile.open(p)) {
            return Tokenizers.fromGGUF(f);
        }
    }

    void assertLoadFails(GGUFWriter w, String... messageParts) throws IOException {
        Path p = dir.resolve("bad" + System.nanoTime() + ".gguf");
        w.write(p);
        try (GGUFFile f = GGUFFile.open(p)) {
            assertThatThrownBy(() -> Tokenizers.fromGGUF(f)).isInstanceOf(GGUFFormatException.class).hasMessageContainingAll(messageParts);
        }
    }

    static GGUFWriter with(GGUFWriter w, Consumer<GGUFWriter> edit) {
        edit.accept(w);
        return w;
    }

    // ---- SentencePiece rules -------------------------------------------------------------

    @Test
    void spmMergesTheHighestScoringPairFirst() throws IOException {
        // ids: ▁=259 a=260 b=261 c=262 ab=263 bc=264
        VocabTokenizer bcWins = load(spm("▁", -5, 1, "a", -1, 1, "b", -1, 1, "c", -1, 1, "ab", -2, 1, "bc", -1.5, 1));
        assertThat(bcWins.encode("abc", false, false)).containsExactly(FIRST, FIRST + 1, FIRST + 5);
        VocabTokenizer abWins = load(spm("▁", -5, 1, "a", -1, 1, "b", -1, 1, "c", -1, 1, "ab", -1.5, 1, "bc", -2, 1));
        assertThat(abWins.encode("abc", false, false)).containsExactly(FIRST, FIRST + 4, FIRST + 3);
    }

    @Test
    void spmEqualScoresMergeLeftmostFirst() throws IOException {
        // "aaa" with only "aa": the left pair merges, the last 'a' stays.
        VocabTokenizer t = load(spm("▁", -1, 1, "a", -1, 1, "aa", -1, 1));
        assertThat(t.encode("aaa", false, false)).containsExactly(FIRST, FIRST + 2, FIRST + 1);
    }

    @Test
    void spmFallsBackToByteTokensAndDecodesThem() throws IOException {
        VocabTokenizer t = load(spm("▁", -1, 1));
        int[] ids = t.encode("é", false, false);
        assertThat(ids).containsExactly(FIRST, BYTE0 + 0xC3, BYTE0 + 0xA9);
        assertThat(t.decode(ids)).isEqualTo(" é");
        assertThat(t.tokenBytes(BYTE0 + 0xC3)).containsExactly((byte) 0xC3);
    }

    @Test
    void spmAddSpacePrefixCanBeTurnedOff() throws IOException {
        VocabTokenizer on = load(spm("▁", -1, 1, "x", -1, 1, "▁x", -0.5, 1));
        assertThat(on.encode("x", false, false)).containsExactly(FIRST + 2);
        VocabTokenizer off = load(with(spm("▁", -1, 1, "x", -1, 1, "▁x", -0.5, 1), w -> w.putBool(Tokenizers.ADD_SPACE_PREFIX, false)));
        assertThat(off.encode("x", false, false)).containsExactly(FIRST + 1);
        assertThat(off.encode(" x", false, false)).containsExactly(FIRST + 2);
    }

    @Test
    void addBosAndAddEosFlagsAreHonoured() throws IOException {
        VocabTokenizer defaults = load(spm("▁", -1, 1));
        assertThat(defaults.encode(" ", true, false)).containsExactly(1, FIRST, FIRST);
        VocabTokenizer flags = load(with(spm("▁", -1, 1), w -> {
            w.putBool(Tokenizers.ADD_BOS, false);
            w.putBool(Tokenizers.ADD_EOS, true);
        }));
        assertThat(flags.encode(" ", true, false)).containsExactly(FIRST, FIRST, 2);
        assertThat(flags.encode(" ", false, false)).containsExactly(FIRST, FIRST);
    }

    // ---- special tokens ------------------------------------------------------------------

    @Test
    void longestSpecialTokenWinsAndControlNeedsParseSpecial() throws IOException {
        // <|a|> and <|a|><|b|> are control tokens; "xy" is user-defined.
        VocabTokenizer t = load(spm("▁", -1, 1, "<|a|>", 0, 3, "<|a|><|b|>", 0, 3, "xy", 0, 4));
        int a = FIRST + 1, ab = FIRST + 2, xy = FIRST + 3;
        assertThat(t.encode("<|a|><|b|><|a|>", false, true)).containsExactly(ab, a);
        assertThat(t.encode("<|a|>", false, false)).doesNotContain(a);
        // user-defined tokens are matched with or without parse_special (no text left, so no SPM space prefix)
        assertThat(t.encode("xy", false, false)).containsExactly(xy);
        assertThat(t.decode(new int[] {ab, xy})).isEqualTo("<|a|><|b|>xy");
        assertThat(t.decode(new int[] {ab, xy}, false)).isEqualTo("xy");
    }

    @Test
    void endOfGenerationTokensAreFoundByTextAndBecomeControl() throws IOException {
        VocabTokenizer t = load(spm("<|im_end|>", 0, 1, "<|eom_id|>", 0, 1, "<|fim_pad|>", 0, 1, "<|im_start|>", 0, 1, "<|myend|>", 0, 3));
        assertThat(t.isEndOfGeneration(2)).as("EOS").isTrue();
        assertThat(t.isEndOfGeneration(FIRST)).as("<|im_end|>").isTrue();
        assertThat(t.isEndOfGeneration(FIRST + 1)).as("<|eom_id|>").isTrue();
        assertThat(t.isEndOfGeneration(FIRST + 2)).as("<|fim_pad|>").isTrue();
        assertThat(t.isEndOfGeneration(FIRST + 3)).as("<|im_start|>").isFalse();
        assertThat(t.isControl(FIRST)).as("llama.cpp retypes EOG-looking tokens as control").isTrue();
        assertThat(t.eot()).isEqualTo(FIRST);
        VocabTokenizer given = load(with(spm("<|myend|>", 0, 3), w -> w.putU32(Tokenizers.EOT_ID, FIRST)));
        assertThat(given.isEndOfGeneration(FIRST)).as("eot_token_id").isTrue();
    }

    @Test
    void gptOssEndOfMessageIsNotEndOfGeneration() throws IOException {
        // gpt-oss: with <|return|> and <|call|> present, <|end|> separates messages and is rendered, not a stop.
        VocabTokenizer harmony = load(spm("<|end|>", 0, 3, "<|return|>", 0, 3, "<|call|>", 0, 3, "<|eot_id|>", 0, 1));
        assertThat(harmony.isEndOfGeneration(FIRST)).as("<|end|>").isFalse();
        assertThat(harmony.tokenType(FIRST)).isEqualTo(TokenType.USER_DEFINED);
        assertThat(harmony.isEndOfGeneration(FIRST + 1)).as("<|return|>").isTrue();
        assertThat(harmony.isEndOfGeneration(FIRST + 2)).as("<|call|>").isTrue();
        assertThat(harmony.isEndOfGeneration(FIRST + 3)).as("<|eot_id|> (a normal token here, retyped)").isTrue();
        assertThat(harmony.isControl(FIRST + 3)).isTrue();
        VocabTokenizer phi = load(spm("<|end|>", 0, 3, "<|return|>", 0, 3));
        assertThat(phi.isEndOfGeneration(FIRST)).as("<|end|> without <|call|> (Phi 3)").isTrue();
        assertThat(phi.isEndOfGeneration(FIRST + 1)).isTrue();
    }

    // ---- byte-level BPE rules ------------------------------------------------------------

    @Test
    void bpeMergesByRank() throws IOException {
        // extra ids: ab=256, bc=257
        VocabTokenizer t = load(bpe("gpt2", List.of("ab", "bc"), List.of("b c", "a b")));
        assertThat(t.encode("abc", false, false)).containsExactly('a' - 0, 257);
        VocabTokenizer u = load(bpe("gpt2", List.of("ab", "bc"), List.of("a b", "b c")));
        assertThat(u.encode("abc", false, false)).containsExactly(256, 'c' - 0);
        assertThat(u.addsBos()).as("gpt2 pre: no BOS by default").isFalse();
    }

    @Test
    void llama3TakesWholeWordTokensWithoutMerging() throws IOException {
        // "abc" is a token but no merge path leads to it: llama-bpe (ignore_merges) still uses it, qwen2 does not.
        List<String> extra = List.of("ab", "abc");
        assertThat(load(bpe("llama-bpe", extra, List.of("a b"))).encode("abc", false, false)).containsExactly(257);
        assertThat(load(bpe("qwen2", extra, List.of("a b"))).encode("abc", false, false)).containsExactly(256, 'c' - 0);
    }

    @Test
    void bpeBytesRoundTripThroughTheByteMap() throws IOException {
        VocabTokenizer t = load(bpe(null, List.of(), List.of()));
        String s = "a ü\n\t€";
        int[] ids = t.encode(s, false, false);
        assertThat(ids).hasSize(s.getBytes(StandardCharsets.UTF_8).length);
        assertThat(t.decode(ids)).isEqualTo(s);
        assertThat(t.tokenText(' ')).isEqualTo("Ġ");
        assertThat(t.tokenBytes(' ')).containsExactly((byte) ' ');
    }

    @Test
    void preTokenizerSplits() {
        assertThat(PreTokenizer.LLAMA3.split("Hello world's 12345 !!\n\n  x")).containsExactly(
                "Hello", " world", "'s", " ", "123", "45", " !!\n\n", " ", " x");
        assertThat(PreTokenizer.QWEN2.split("a 123")).containsExactly("a", " ", "1", "2", "3");
        assertThat(PreTokenizer.GPT2.split("Hello world's 123")).containsExactly("Hello", " world", "'s", " 123");
        assertThat(PreTokenizer.DEFAULT.split("a+b 1234")).containsExactly("a", "+", "b", " ", "123", "4");
    }

    // ---- errors --------------------------------------------------------------------------

    @Test
    void unknownModelIsAClearError() throws IOException {
        assertLoadFails(with(spm(), w -> w.putString(Tokenizers.MODEL, "bert")), "unknown tokenizer model 'bert'", "llama", "gpt2");
    }

    @Test
    void unknownPreTokenizerIsAClearError() throws IOException {
        assertLoadFails(bpe("mystery-pre", List.of(), List.of()), "unknown pre-tokenizer 'mystery-pre'", "tokenizer.ggml.pre");
    }

    @Test
    void missingOrMisshapenMetadataIsAClearError() throws IOException {
        assertLoadFails(new GGUFWriter().putString("general.architecture", "llama"), "missing metadata 'tokenizer.ggml.model'");
        assertLoadFails(new GGUFWriter().putString(Tokenizers.MODEL, "llama"), "missing metadata 'tokenizer.ggml.tokens'");
        assertLoadFails(with(spm(), w -> w.put(Tokenizers.SCORES, GGUFValue.f32s(new double[] {1, 2}))),
                "'tokenizer.ggml.scores' has 2 entries", "259");
        assertLoadFails(with(spm(), w -> w.put(Tokenizers.TOKEN_TYPE, GGUFValue.i32s(new long[] {1}))), "'tokenizer.ggml.token_type' has 1 entries");
        assertLoadFails(with(spm(), w -> w.putU32(Tokenizers.TOKENS, 5)), "'tokenizer.ggml.tokens' should be an array of strings");
        GGUFWriter noMerges = bpe("gpt2", List.of(), List.of());
        noMerges.put(Tokenizers.MERGES, GGUFValue.u32(0));
        assertLoadFails(noMerges, "tokenizer.ggml.merges");
    }

    @Test
    void badTokenIdsAreRejected() throws IOException {
        VocabTokenizer t = load(spm());
        assertThatThrownBy(() -> t.tokenBytes(99999)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("99999");
        assertThatThrownBy(() -> t.decode(new int[] {-1})).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("-1");
    }
}
