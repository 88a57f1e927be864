package dev.gearbox.gguf.synth;

import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.gguf.TensorInfo;
import dev.gearbox.tensor.GGMLType;
import dev.gearbox.tensor.Quantizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SyntheticModelTest {
    @TempDir Path dir;

    static SyntheticModel.Builder small(String arch) {
        return SyntheticModel.builder().arch(arch).embeddingLength(64).layers(2).heads(4).kvHeads(2)
                .feedForward(96).vocab(300).contextLength(128).seed(7);
    }

    /** The tensors llama.cpp's loader asks for, written out by hand per arch (n_embd 64, 4 heads of 16, 2 KV heads, ff 96, vocab 300). */
    static Map<String, long[]> expectedShapes(String arch, int headDim, boolean tied) {
        int q = 4 * headDim, kv = 2 * headDim;
        Map<String, long[]> m = new LinkedHashMap<>();
        m.put("token_embd.weight", new long[] {64, 300});
        for (int i = 0; i < 2; i++) {
            String p = "blk." + i + ".";
            m.put(p + "attn_norm.weight", new long[] {64});
            m.put(p + "attn_q.weight", new long[] {64, q});
            m.put(p + "attn_k.weight", new long[] {64, kv});
            m.put(p + "attn_v.weight", new long[] {64, kv});
            if (arch.equals("qwen2")) {
                m.put(p + "attn_q.bias", new long[] {q});
                m.put(p + "attn_k.bias", new long[] {kv});
                m.put(p + "attn_v.bias", new long[] {kv});
            }
            if (arch.equals("qwen3")) {
                m.put(p + "attn_q_norm.weight", new long[] {headDim});
                m.put(p + "attn_k_norm.weight", new long[] {headDim});
            }
            m.put(p + "attn_output.weight", new long[] {q, 64});
            m.put(p + "ffn_norm.weight", new long[] {64});
            m.put(p + "ffn_gate.weight", new long[] {64, 96});
            m.put(p + "ffn_up.weight", new long[] {64, 96});
            m.put(p + "ffn_down.weight", new long[] {96, 64});
        }
        m.put("output_norm.weight", new long[] {64});
        if (!tied) m.put("output.weight", new long[] {64, 300});
        return m;
    }

    @Test
    void eachArchHasExactlyLlamaCppsTensorsAndKeys() throws IOException {
        for (String arch : new String[] {"llama", "qwen2", "qwen3"}) {
            int headDim = arch.equals("qwen3") ? 32 : 16;
            SyntheticModel.Builder b = small(arch).weightType(GGMLType.F16);
            if (arch.equals("qwen3")) b.headDim(32);
            Path p = dir.resolve(arch + ".gguf");
            b.build().write(p);
            try (GGUFFile f = GGUFFile.open(p)) {
                Map<String, long[]> expected = expectedShapes(arch, headDim, false);
                assertThat(f.tensors().keySet()).as(arch).containsExactlyInAnyOrderElementsOf(expected.keySet());
                for (TensorInfo t : f.tensorList()) {
                    assertThat(t.shape()).as(arch + " " + t.name()).containsExactly(expected.get(t.name()));
                    GGMLType want = t.shape().length == 1 ? GGMLType.F32 : GGMLType.F16;
                    assertThat(t.type()).as(arch + " " + t.name()).isEqualTo(want);
                }
                assertThat(f.requireString("general.architecture")).isEqualTo(arch);
                assertThat(f.requireLong(arch + ".context_length")).isEqualTo(128);
                assertThat(f.requireLong(arch + ".embedding_length")).isEqualTo(64);
                assertThat(f.requireLong(arch + ".block_count")).isEqualTo(2);
                assertThat(f.requireLong(arch + ".feed_forward_length")).isEqualTo(96);
                assertThat(f.requireLong(arch + ".attention.head_count")).isEqualTo(4);
                assertThat(f.requireLong(arch + ".attention.head_count_kv")).isEqualTo(2);
                assertThat(f.requireLong(arch + ".rope.dimension_count")).isEqualTo(headDim);
                assertThat(f.getDouble(arch + ".attention.layer_norm_rms_epsilon", 0)).isCloseTo(1e-5, org.assertj.core.data.Offset.offset(1e-9));
                assertThat(f.getDouble(arch + ".rope.freq_base", 0)).isEqualTo(10000);
                assertThat(f.requireLong("general.file_type")).isEqualTo(1); // MOSTLY_F16
                // llama.cpp type-checks keys: counts must be UINT32, floats FLOAT32.
                assertThat(f.get(arch + ".block_count").type()).isEqualTo(dev.gearbox.gguf.GGUFValueType.UINT32);
                assertThat(f.get(arch + ".rope.freq_base").type()).isEqualTo(dev.gearbox.gguf.GGUFValueType.FLOAT32);
                if (arch.equals("qwen3")) {
                    assertThat(f.requireLong("qwen3.attention.key_length")).isEqualTo(32);
                    assertThat(f.requireLong("qwen3.attention.value_length")).isEqualTo(32);
                } else {
                    assertThat(f.has(arch + ".attention.key_length")).isFalse();
                }
            }
        }
    }

    @Test
    void vocabularyIsAUsableSentencePieceVocab() throws IOException {
        Path p = dir.resolve("v.gguf");
        small("llama").vocab(1000).build().write(p);
        try (GGUFFile f = GGUFFile.open(p)) {
            assertThat(f.requireString("tokenizer.ggml.model")).isEqualTo("llama");
            String[] tokens = f.getStrings("tokenizer.ggml.tokens");
            double[] scores = f.getDoubles("tokenizer.ggml.scores");
            long[] types = f.getLongs("tokenizer.ggml.token_type");
            assertThat(tokens).hasSize(1000);
            assertThat(scores).hasSize(1000);
            assertThat(types).hasSize(1000);
            assertThat(f.getLong("llama.vocab_size", 0)).isEqualTo(1000);
            assertThat(new HashSet<>(Arrays.asList(tokens))).hasSize(1000); // no duplicate pieces
            assertThat(Arrays.copyOf(tokens, 3)).containsExactly("<unk>", "<s>", "</s>");
            assertThat(types[0]).isEqualTo(2);
            assertThat(types[1]).isEqualTo(3);
            assertThat(types[2]).isEqualTo(3);
            for (int b = 0; b < 256; b++) {
                assertThat(tokens[3 + b]).isEqualTo(String.format("<0x%02X>", b));
                assertThat(types[3 + b]).isEqualTo(6);
            }
            assertThat(tokens).contains("\u2581the", "\u2581a", "e", "\u2581t");
            for (int i = 259; i < 1000; i++) {
                assertThat(types[i]).isEqualTo(1);
                if (i > 259) assertThat(scores[i]).as("score " + i).isLessThan(scores[i - 1]);
            }
            assertThat(f.requireLong("tokenizer.ggml.bos_token_id")).isEqualTo(1);
            assertThat(f.requireLong("tokenizer.ggml.eos_token_id")).isEqualTo(2);
            assertThat(f.requireLong("tokenizer.ggml.unknown_token_id")).isEqualTo(0);
        }
        // A large vocabulary (Qwen-sized) still has unique pieces.
        assertThat(new HashSet<>(Arrays.asList(new SyntheticVocab(151_936).tokens()))).hasSize(151_936);
    }

    @Test
    void deterministicPerSeed() throws IOException {
        Path a = dir.resolve("a.gguf"), a2 = dir.resolve("a2.gguf"), c = dir.resolve("c.gguf");
        small("qwen2").seed(42).build().write(a);
        small("qwen2").seed(42).build().write(a2);
        small("qwen2").seed(43).build().write(c);
        assertThat(Files.mismatch(a, a2)).isEqualTo(-1);
        byte[] x = Files.readAllBytes(a), y = Files.readAllBytes(c);
        assertThat(x.length).isEqualTo(y.length);
        try (GGUFFile fa = GGUFFile.open(a); GGUFFile fc = GGUFFile.open(c)) {
            TensorInfo t = fa.tensor("blk.1.ffn_up.weight");
            assertThat(fa.data(t).mismatch(fc.data(fc.tensor("blk.1.ffn_up.weight")))).isNotEqualTo(-1);
        }
    }

    @Test
    void weightsHaveSaneScales() throws IOException {
        Path p = dir.resolve("s.gguf");
        SyntheticModel m = small("qwen3").headDim(16).build();
        m.write(p);
        try (GGUFFile f = GGUFFile.open(p)) {
            double[] q = stats(f, "blk.0.attn_q.weight");
            assertThat(q[0]).isCloseTo(0, org.assertj.core.data.Offset.offset(0.005));
            assertThat(q[1]).isCloseTo(SyntheticModel.INIT_STD, org.assertj.core.data.Offset.offset(0.002));
            double[] down = stats(f, "blk.1.ffn_down.weight");
            assertThat(down[1]).isCloseTo(SyntheticModel.INIT_STD / 2, org.assertj.core.data.Offset.offset(0.002)); // / sqrt(2 * 2 layers)
            double[] norm = stats(f, "blk.1.attn_q_norm.weight");
            assertThat(norm[0]).isCloseTo(1, org.assertj.core.data.Offset.offset(0.02));
            // Different tensors are not copies of one stream.
            assertThat(f.data(f.tensor("blk.0.attn_k.weight")).mismatch(f.data(f.tensor("blk.0.attn_v.weight")))).isNotEqualTo(-1);
        }
    }

    @Test
    void tiedOutputAndEmbeddingTypeAndLlama3Rope() throws IOException {
        Path p = dir.resolve("t.gguf");
        small("llama").tiedOutput(true).weightType(GGMLType.BF16).embeddingType(GGMLType.F32).ropeBase(500_000)
                .llama3RopeScaling(SyntheticModel.Llama3RopeScaling.llama31(32)).build().write(p);
        try (GGUFFile f = GGUFFile.open(p)) {
            assertThat(f.tensor("output.weight")).isNull();
            assertThat(f.tensor("token_embd.weight").type()).isEqualTo(GGMLType.F32);
            assertThat(f.tensor("blk.0.ffn_gate.weight").type()).isEqualTo(GGMLType.BF16);
            assertThat(f.requireLong("general.file_type")).isEqualTo(32);
            TensorInfo rf = f.tensor("rope_freqs.weight");
            assertThat(rf.shape()).containsExactly(8);                 // head_dim 16 / 2
            float[] factors = new float[8];
            Quantizer.dequantize(GGMLType.F32, f.data(rf), factors, 0, 8);
            assertThat(factors[0]).isEqualTo(1f);                      // fastest rotation: untouched
            assertThat(factors[7]).isEqualTo(32f);                     // slowest: divided by the full factor
            for (int i = 1; i < 8; i++) assertThat(factors[i]).isGreaterThanOrEqualTo(factors[i - 1]);
            assertThat(f.has("llama.rope.scaling.factor")).isFalse();  // llama.cpp would apply it as linear scaling
        }
    }

    @Test
    void presetsBuildAndCountParameters() {
        for (String name : SyntheticModel.PRESETS) assertThat(SyntheticModel.preset(name).build().parameterCount()).as(name).isPositive();
        // stories110M's shape (untied, 32000 vocab) has about 134M parameters with its separate output matrix.
        assertThat(SyntheticModel.preset("110m").build().parameterCount()).isBetween(130_000_000L, 140_000_000L);
        assertThat(SyntheticModel.preset("1b").build().parameterCount()).isBetween(1_000_000_000L, 1_300_000_000L);
    }

    @Test
    void invalidSpecsAreRejectedClearly() {
        assertThatThrownBy(() -> small("llama").heads(5).build()).hasMessageContaining("not divisible by n_head 5");
        assertThatThrownBy(() -> small("llama").kvHeads(3).build()).hasMessageContaining("not a multiple of n_head_kv 3");
        assertThatThrownBy(() -> small("llama").vocab(100).build()).hasMessageContaining("minimum 259");
        assertThatThrownBy(() -> small("mamba")).hasMessageContaining("unknown architecture 'mamba'");
        assertThatThrownBy(() -> small("qwen2").llama3RopeScaling(SyntheticModel.Llama3RopeScaling.llama31(8)).build())
                .hasMessageContaining("only applies to arch llama");
        assertThatThrownBy(() -> small("llama").weightType(GGMLType.IQ2_XXS).build()).hasMessageContaining("no quantizer for weight type IQ2_XXS");
        assertThatThrownBy(() -> SyntheticModel.preset("7b")).hasMessageContaining("unknown preset '7b'");
    }

    @Test
    void quantizedWeightsWhenAQuantizerExists() throws IOException {
        assertThatThrownBy(() -> small("llama").weightType(GGMLType.Q8_0).feedForward(80).build())
                .hasMessageContaining("ffn_down.weight").hasMessageContaining("block size 32");
        Path p = dir.resolve("q8.gguf");
        SyntheticModel.preset("tiny").weightType(GGMLType.Q8_0).build().write(p);
        try (GGUFFile f = GGUFFile.open(p)) {
            assertThat(f.tensor("blk.0.attn_q.weight").type()).isEqualTo(GGMLType.Q8_0);
            assertThat(f.tensor("blk.0.attn_norm.weight").type()).isEqualTo(GGMLType.F32);
            assertThat(f.requireLong("general.file_type")).isEqualTo(7);
        }
    }


    /** {mean, std} of a tensor's values. */
    static double[] stats(GGUFFile f, String name) {
        TensorInfo t = f.tensor(name);
        int n = (int) t.elementCount();
        float[] v = new float[n];
        Quantizer.dequantize(t.type(), f.data(t), v, 0, n);
        double s = 0, s2 = 0;
        for (float x : v) { s += x; s2 += x * x; }
        double mean = s / n;
        return new double[] {mean, Math.sqrt(s2 / n - mean * mean)};
    }
}
