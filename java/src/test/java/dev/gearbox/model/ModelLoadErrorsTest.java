package dev.gearbox.model;

import dev.gearbox.SharedData;
import dev.gearbox.backend.cpu.CpuBackend;
import dev.gearbox.gguf.GGUFFormatException;
import dev.gearbox.gguf.GGUFValue;
import dev.gearbox.tensor.GGMLType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A model file that is a valid GGUF but not a valid model gets a clear error naming the problem. */
class ModelLoadErrorsTest {
    @TempDir
    Path dir;

    private Path variant(java.util.function.BiFunction<String, GGUFValue, GGUFValue> meta,
                         java.util.function.Function<GGUFRewriter.Tensor, GGUFRewriter.Tensor> tensors) throws IOException {
        Path out = dir.resolve("variant.gguf");
        GGUFRewriter.rewrite(SharedData.stories260K(), out, meta, tensors);
        return out;
    }

    @Test
    void unchangedCopyLoads() throws IOException {
        Path p = variant((k, v) -> v, t -> t);
        try (Model m = Model.load(p, new CpuBackend())) {
            assertThat(m.config().layers()).isEqualTo(5);
        }
    }

    @Test
    void unknownArchitectureIsNamed() throws IOException {
        Path p = variant((k, v) -> k.equals("general.architecture") ? GGUFValue.string("mamba") : v, t -> t);
        assertThatThrownBy(() -> Model.load(p, new CpuBackend())).isInstanceOf(GGUFFormatException.class)
                .hasMessageContaining("unsupported architecture 'mamba'").hasMessageContaining("llama");
    }

    @Test
    void missingMetadataIsNamed() throws IOException {
        Path p = variant((k, v) -> k.equals("llama.block_count") ? null : v, t -> t);
        assertThatThrownBy(() -> Model.load(p, new CpuBackend())).isInstanceOf(GGUFFormatException.class)
                .hasMessageContaining("llama.block_count").hasMessageContaining(p.toString());
    }

    @Test
    void missingTensorIsNamed() throws IOException {
        Path p = variant((k, v) -> v, t -> t.name().equals("blk.3.ffn_up.weight") ? null : t);
        assertThatThrownBy(() -> Model.load(p, new CpuBackend())).isInstanceOf(GGUFFormatException.class)
                .hasMessageContaining("missing tensor 'blk.3.ffn_up.weight'");
    }

    @Test
    void misshapenTensorIsNamed() throws IOException {
        // Same bytes, transposed shape: only the shape check can catch it.
        Path p = variant((k, v) -> v, t -> t.name().equals("blk.1.attn_q.weight")
                ? new GGUFRewriter.Tensor(t.name(), t.type(), new long[]{32, 128}, t.data()) : t);
        assertThatThrownBy(() -> Model.load(p, new CpuBackend())).isInstanceOf(GGUFFormatException.class)
                .hasMessageContaining("blk.1.attn_q.weight").hasMessageContaining("shape [32, 128]").hasMessageContaining("expected [64, 64]")
                .hasMessageContaining("byte offset");
    }

    @Test
    void typeWithoutKernelsIsNamed() throws IOException {
        Path p = variant((k, v) -> v, t -> t.name().equals("blk.0.attn_k.weight")
                ? new GGUFRewriter.Tensor(t.name(), GGMLType.I32, t.shape(), t.data()) : t);
        assertThatThrownBy(() -> Model.load(p, new CpuBackend())).isInstanceOf(GGUFFormatException.class)
                .hasMessageContaining("blk.0.attn_k.weight").hasMessageContaining("I32");
    }

    @Test
    void headCountThatDoesNotDivideIsNamed() throws IOException {
        Path p = variant((k, v) -> k.equals("llama.attention.head_count_kv") ? GGUFValue.u32(3) : v, t -> t);
        assertThatThrownBy(() -> Model.load(p, new CpuBackend())).isInstanceOf(GGUFFormatException.class).hasMessageContaining("head_count_kv");
    }

    @Test
    void metadataOfTheWrongTypeIsNamed() throws IOException {
        Path p = variant((k, v) -> k.equals("llama.embedding_length") ? GGUFValue.string("sixty-four") : v, t -> t);
        assertThatThrownBy(() -> Model.load(p, new CpuBackend())).isInstanceOf(GGUFFormatException.class)
                .hasMessageContaining("llama.embedding_length").hasMessageContaining("integer");
    }

    @Test
    void contextOverflowAndBadTokensAreClearErrors() throws IOException {
        try (Model m = Model.load(SharedData.stories260K(), new CpuBackend()); Sequence s = m.newSequence(4)) {
            assertThatThrownBy(() -> s.forward(new int[]{1, 2, 3, 4, 5})).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("context full");
            assertThatThrownBy(() -> s.forward(new int[]{512})).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("outside the vocabulary");
            assertThat(s.position()).isZero();
        }
    }
}
