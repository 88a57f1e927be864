package dev.gearbox.model;

import dev.gearbox.gguf.synth.SyntheticModel;
import dev.gearbox.tensor.GGMLType;
import org.junit.jupiter.params.provider.Arguments;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/** The architecture × tensor-type matrix that end-to-end tests (CPU and GPU) run over, and its small random models. */
public final class TestModels {
    public static final List<String> ARCHITECTURES = List.of("llama", "qwen2", "qwen3");
    public static final List<GGMLType> TYPES = List.of(GGMLType.F32, GGMLType.F16, GGMLType.BF16, GGMLType.Q8_0, GGMLType.Q4_0,
            GGMLType.Q4_1, GGMLType.Q5_0, GGMLType.Q2_K, GGMLType.Q3_K, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K);

    private TestModels() {}

    public static Stream<Arguments> archTypeCases() {
        List<Arguments> out = new ArrayList<>();
        for (String arch : ARCHITECTURES) for (GGMLType t : TYPES) out.add(Arguments.of(arch, t));
        return out.stream();
    }

    /** A two-layer model whose dimensions suit every block size (multiples of 256); qwen3's q/k width differs from n_embd, as in real Qwen3. */
    public static SyntheticModel.Builder small(String arch, GGMLType type, long seed) {
        SyntheticModel.Builder b = SyntheticModel.builder().arch(arch).embeddingLength(256).layers(2).heads(4).kvHeads(2)
                .feedForward(512).vocab(320).contextLength(128).weightType(type).seed(seed);
        if (arch.equals("qwen3")) b.headDim(128);
        return b;
    }
}
