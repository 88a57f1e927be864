package dev.gearbox.gguf.synth;

import dev.gearbox.model.Model;
import dev.gearbox.model.Sequence;
import dev.gearbox.template.ChatRenderer;
import dev.gearbox.tensor.GGMLType;
import dev.gearbox.tokenizer.Tokenizer;
import dev.gearbox.tokenizer.Tokenizers;
import dev.gearbox.gguf.GGUFFile;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * A user-shaped test model: random weights, but Qwen3's real tokenizer and chat template taken from
 * the converted vocab GGUF. It loads, renders its own template and tokenizes the prompt as Qwen3 does.
 */
class SyntheticVocabFromTest {
    static final Path QWEN3 = Path.of("target/test-assets/qwen3-vocab.gguf");

    @Test
    void modelWithQwen3VocabularyRendersAndTokenizesItsOwnTemplate(@TempDir Path dir) throws Exception {
        assumeTrue(Files.exists(QWEN3), QWEN3 + " is absent: run scripts/fetch-test-assets.sh");
        Path out = dir.resolve("qwen3-shaped.gguf");
        SyntheticModel.preset("tiny-qwen3").embeddingLength(64).heads(2).kvHeads(1).headDim(32).feedForward(128).layers(1)
                .weightType(GGMLType.Q8_0).vocabFrom(QWEN3).build().write(out);

        try (Model m = Model.load(out, new dev.gearbox.backend.cpu.CpuBackend()); GGUFFile vocabFile = GGUFFile.open(QWEN3)) {
            Tokenizer real = Tokenizers.fromGGUF(vocabFile);
            assertThat(m.config().vocabSize()).isEqualTo(real.vocabSize());
            assertThat(m.chatTemplate()).isEqualTo(vocabFile.getString(ChatRenderer.TEMPLATE_KEY, null));

            List<Map<String, Object>> chat = List.of(Map.of("role", "system", "content", "You are a helpful assistant."),
                    Map.of("role", "user", "content", "What is 2 + 2?"));
            String prompt = ChatRenderer.forModel(m.file(), null).render(chat, null, true, Map.of());
            assertThat(prompt).isEqualTo("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n"
                    + "<|im_start|>user\nWhat is 2 + 2?<|im_end|>\n<|im_start|>assistant\n");

            int[] ids = m.tokenizer().encode(prompt, true, true);
            assertThat(ids).isEqualTo(real.encode(prompt, true, true));
            // <|im_start|> system \n You ␣are ␣a ␣helpful ␣assistant . <|im_end|> \n (11)
            // <|im_start|> user \n What ␣is ␣ 2 ␣+ ␣ 2 ? <|im_end|> \n (13; Qwen splits digits)   <|im_start|> assistant \n (3)
            assertThat(ids).hasSize(27);
            assertThat(m.tokenizer().tokenText(ids[0])).isEqualTo("<|im_start|>");
            assertThat(m.tokenizer().decode(ids)).isEqualTo(prompt);
            // The end of Qwen's turn stops generation.
            assertThat(m.tokenizer().isEndOfGeneration(m.tokenizer().tokenId("<|im_end|>"))).isTrue();

            try (Sequence s = m.newSequence(64)) {
                float[][] logits = m.step(List.of(s), new int[][] {ids});
                assertThat(logits[0]).hasSize(real.vocabSize());
                assertThat(logits[0][0]).isFinite();
            }
        }
    }
}
