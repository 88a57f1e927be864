package dev.gearbox.tokenizer;

import dev.gearbox.Require;

import dev.gearbox.gguf.GGUFFile;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Special tokens, BOS/EOS defaults, end-of-generation and decoding with the real Llama 3 and Qwen3
 * vocabularies (converted by scripts/fetch-test-assets.sh).
 */
class BpeSpecialTokenTest {
    static GGUFFile llamaFile, qwenFile;
    static VocabTokenizer llama3, qwen3;

    @BeforeAll
    static void load() throws Exception {
        Path l = TokenizerVectorTest.ASSETS.resolve("llama3-vocab.gguf");
        Path q = TokenizerVectorTest.ASSETS.resolve("qwen3-vocab.gguf");
        Require.capability("assets", Files.exists(l) && Files.exists(q), "target/test-assets/*.gguf are absent: run scripts/fetch-test-assets.sh");
        llamaFile = GGUFFile.open(l);
        qwenFile = GGUFFile.open(q);
        llama3 = Tokenizers.fromGGUF(llamaFile);
        qwen3 = Tokenizers.fromGGUF(qwenFile);
    }

    @AfterAll
    static void close() {
        if (llamaFile != null) llamaFile.close();
        if (qwenFile != null) qwenFile.close();
    }

    static int[] concat(int[]... parts) {
        return java.util.Arrays.stream(parts).flatMapToInt(IntStream::of).toArray();
    }

    /** Every id that ends generation, by scanning the whole vocabulary. */
    static java.util.List<Integer> eogIds(VocabTokenizer t) {
        return IntStream.range(0, t.vocabSize()).filter(t::isEndOfGeneration).boxed().toList();
    }

    @Test
    void endOfGenerationSetsOfTheRealVocabulariesAreLlamaCpps() {
        // Llama 3: EOS <|end_of_text|> and the end of turn <|eot_id|>; no other token of 128256 stops.
        assertThat(eogIds(llama3)).containsExactly(128001, 128009);
        // Qwen3: EOS <|im_end|> (config), <|endoftext|>, and the FIM pad / repo / file-separator markers.
        assertThat(eogIds(qwen3)).containsExactly(151643, 151645, 151662, 151663, 151664);
        assertThat(qwen3.tokenText(qwen3.eos())).isEqualTo("<|im_end|>");
        assertThat(qwen3.tokenText(qwen3.eot())).isEqualTo("<|im_end|>");
        for (int id : eogIds(qwen3)) assertThat(qwen3.isControl(id)).as(qwen3.tokenText(id)).isTrue();
    }

    @Test
    void llama3Metadata() {
        assertThat(llama3.vocabSize()).isEqualTo(128256);
        assertThat(llama3.bos()).isEqualTo(128000);
        assertThat(llama3.tokenText(128000)).isEqualTo("<|begin_of_text|>");
        assertThat(llama3.eos()).isEqualTo(128001);
        assertThat(llama3.eot()).isEqualTo(128009);
        assertThat(llama3.addsBos()).as("llama-bpe without add_bos_token: llama.cpp adds BOS").isTrue();
        assertThat(((BpeTokenizer) llama3).preTokenizer()).isEqualTo(PreTokenizer.LLAMA3);
        // EOS and <|eot_id|> end generation (this is Llama 3.0: no <|eom_id|>); a header marker does not.
        assertThat(llama3.isEndOfGeneration(128001)).isTrue();
        assertThat(llama3.isEndOfGeneration(128009)).isTrue();
        assertThat(llama3.tokenId("<|eom_id|>")).isEqualTo(-1);
        assertThat(llama3.isEndOfGeneration(128006)).isFalse();
        assertThat(llama3.isControl(128006)).isTrue();
        assertThat(llama3.isControl(9906)).isFalse();
    }

    @Test
    void llama3AddSpecialPutsBosFirst() {
        assertThat(llama3.encode("Hello world", true, false)).containsExactly(128000, 9906, 1917);
        assertThat(llama3.encode("Hello world", false, false)).containsExactly(9906, 1917);
        assertThat(llama3.encode("", true, true)).containsExactly(128000);
    }

    @Test
    void llama3ParsesSpecialTokensOnlyWhenAsked() {
        String text = "<|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>";
        int[] parsed = llama3.encode(text, false, true);
        assertThat(parsed).containsExactly(concat(new int[] {128006}, llama3.encode("user", false, false), new int[] {128007},
                llama3.encode("\n\nHi", false, false), new int[] {128009}));
        int[] literal = llama3.encode(text, false, false);
        assertThat(literal).doesNotContain(128006, 128007, 128009);
        assertThat(llama3.decode(literal)).isEqualTo(text);
        assertThat(llama3.decode(parsed)).isEqualTo(text);
        assertThat(llama3.decode(parsed, false)).isEqualTo("user\n\nHi");
    }

    @Test
    void specialTokensInTheMiddleOfWordsSplitThem() {
        // "<|eot_id|>" inside text splits it; the text on each side is tokenized on its own.
        int[] got = llama3.encode("ab<|eot_id|>cd", false, true);
        assertThat(got).containsExactly(concat(llama3.encode("ab", false, false), new int[] {128009}, llama3.encode("cd", false, false)));
    }

    @Test
    void qwen3Metadata() {
        assertThat(qwen3.addsBos()).as("Qwen's add_bos_token = false").isFalse();
        assertThat(((BpeTokenizer) qwen3).preTokenizer()).isEqualTo(PreTokenizer.QWEN2);
        int imEnd = qwen3.tokenId("<|im_end|>");
        assertThat(imEnd).isEqualTo(151645);
        assertThat(qwen3.eos()).isEqualTo(imEnd);
        assertThat(qwen3.isEndOfGeneration(imEnd)).isTrue();
        assertThat(qwen3.isEndOfGeneration(qwen3.tokenId("<|endoftext|>"))).isTrue();
        assertThat(qwen3.isEndOfGeneration(qwen3.tokenId("<|im_start|>"))).isFalse();
        assertThat(qwen3.tokenType(qwen3.tokenId("<think>"))).isEqualTo(TokenType.USER_DEFINED);
    }

    @Test
    void qwen3AddSpecialAddsNothingAndParsesChatMarkers() {
        String prompt = ChatTemplate.CHATML.render(List.of(ChatMessage.user("Hi")), true);
        int[] got = qwen3.encode(prompt, true, true);
        assertThat(got).containsExactly(concat(new int[] {151644}, qwen3.encode("user\nHi", false, false),
                new int[] {151645}, qwen3.encode("\n", false, false), new int[] {151644}, qwen3.encode("assistant\n", false, false)));
    }

    @Test
    void userDefinedTokensAreSplitEvenWithoutParseSpecial() {
        // As in llama.cpp (and HF): only control tokens need parse_special; added user-defined ones always match.
        int think = qwen3.tokenId("<think>");
        assertThat(qwen3.encode("<think>x", false, false)).startsWith(think);
        assertThat(qwen3.encode("<|im_start|>x", false, false)).doesNotContain(151644);
    }

    @Test
    void byteLevelDecodingIsLossless() throws Exception {
        VectorFile vf = VectorFile.read(TokenizerVectorTest.sharedFile("ggml-vocab-llama-bpe.gguf.inp"),
                TokenizerVectorTest.sharedFile("ggml-vocab-llama-bpe.gguf.out"));
        for (String s : vf.inputs()) {
            assertThat(llama3.decode(llama3.encode(s, false, false))).isEqualTo(s);
            assertThat(qwen3.decode(qwen3.encode(s, false, false))).isEqualTo(s);
        }
    }

    @Test
    void tokenBytesCanBePartOfACharacter() {
        // A 4-byte emoji that is not one token: its tokens' bytes glue back into the character.
        int[] ids = llama3.encode("\uD83E\uDD8A", false, false);
        java.io.ByteArrayOutputStream b = new java.io.ByteArrayOutputStream();
        for (int id : ids) b.writeBytes(llama3.tokenBytes(id));
        assertThat(b.toByteArray()).containsExactly("\uD83E\uDD8A".getBytes(java.nio.charset.StandardCharsets.UTF_8));
        assertThat(llama3.decode(new int[] {ids[0]})).contains("\uFFFD");
    }
}
