package dev.gearbox.model;

import dev.gearbox.backend.cpu.CpuBackend;
import dev.gearbox.gguf.synth.SyntheticModel;
import dev.gearbox.tensor.GGMLType;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A batched step over several sequences gives each the logits its own forward pass gives. */
class BatchStepTest {
    // Decode steps of one token and batched rows take different native int8 kernels (different
    // float summation order); equality to 1e-5 is about the batching, so both run the float kernels here.
    @org.junit.jupiter.api.BeforeAll
    static void floatKernels() {
        dev.gearbox.tensor.Kernels.setNativeKernels(false);
    }

    @org.junit.jupiter.api.AfterAll
    static void restoreKernels() {
        dev.gearbox.tensor.Kernels.setNativeKernels(true);
    }

    @TempDir
    static Path dir;

    private static Model load(String arch, GGMLType type) throws Exception {
        Path p = dir.resolve(arch + "-" + type + ".gguf");
        if (!p.toFile().exists()) {
            SyntheticModel.builder().arch(arch).embeddingLength(64).layers(2).heads(4).kvHeads(2).feedForward(96)
                    .vocab(300).contextLength(256).weightType(type).seed(7).build().write(p);
        }
        return Model.load(p, new CpuBackend());
    }

    private static int[] tokens(SplittableRandom r, int n) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = r.nextInt(300);
        return t;
    }

    private static double maxDiff(float[] a, float[] b) {
        double m = 0;
        for (int i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
        return m;
    }

    @ParameterizedTest
    @ValueSource(strings = {"llama:F32", "llama:Q8_0", "qwen2:F32", "qwen3:Q4_0"})
    void batchedStepsEqualPerSequenceForward(String spec) throws Exception {
        String[] parts = spec.split(":");
        try (Model m = load(parts[0], GGMLType.valueOf(parts[1]))) {
            SplittableRandom r = new SplittableRandom(3);
            int ns = 4;
            List<Sequence> batched = new ArrayList<>(), single = new ArrayList<>();
            for (int i = 0; i < ns; i++) {
                batched.add(m.newSequence(128));
                single.add(m.newSequence(128));
            }
            BatchStep step = m.newBatchStep();
            // Steps mix prompt chunks of different lengths with single decode tokens; sequences join late.
            int[][][] plan = {
                    {tokens(r, 7), tokens(r, 1)},
                    {tokens(r, 1), tokens(r, 1), tokens(r, 20)},
                    {tokens(r, 1), tokens(r, 5), tokens(r, 1), tokens(r, 3)},
                    {tokens(r, 1), tokens(r, 1), tokens(r, 1), tokens(r, 1)},
            };
            for (int[][] feed : plan) {
                int k = feed.length;
                float[][] got = step.step(batched.subList(0, k), feed);
                for (int i = 0; i < k; i++) {
                    float[] want = single.get(i).forward(feed[i]);
                    assertThat(maxDiff(got[i], want)).as("sequence %d", i).isLessThanOrEqualTo(1e-5);
                    assertThat(batched.get(i).position()).isEqualTo(single.get(i).position());
                }
            }
        }
    }

    @Test
    void modelStepConvenienceAndBadInput() throws Exception {
        try (Model m = load("llama", GGMLType.F32); Model other = load("qwen2", GGMLType.F32)) {
            Sequence a = m.newSequence(8), b = m.newSequence(8);
            float[][] out = m.step(List.of(a, b), new int[][] {{1, 2}, {3}});
            assertThat(out).hasNumberOfRows(2);
            assertThat(out[0]).hasSize(300);
            assertThatThrownBy(() -> m.step(List.of(a, a), new int[][] {{1}, {2}})).hasMessageContaining("appears twice");
            assertThatThrownBy(() -> m.step(List.of(a), new int[][] {{}})).hasMessageContaining("no new tokens");
            assertThatThrownBy(() -> m.step(List.of(a), new int[][] {{1, 2, 3, 4, 5, 6, 7}})).hasMessageContaining("context full");
            assertThatThrownBy(() -> m.step(List.of(a), new int[][] {{300}})).hasMessageContaining("outside the vocabulary");
            assertThatThrownBy(() -> m.step(List.of(other.newSequence(4)), new int[][] {{1}})).hasMessageContaining("another model");
        }
    }

    @Test
    void rowsWithAChoiceBringBackTheChosenTokenAndTheOthersTheirLogits() throws Exception {
        try (Model m = load("llama", GGMLType.F32)) {
            BatchStep chooser = m.newBatchStep(), reader = m.newBatchStep();
            SplittableRandom r = new SplittableRandom(3);
            List<Sequence> a = new ArrayList<>(), b = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                a.add(m.newSequence(64));
                b.add(m.newSequence(64));
            }
            int[][] feed = {tokens(r, 5), tokens(r, 1), tokens(r, 3)};
            dev.gearbox.sample.TokenChoice hot = new dev.gearbox.sample.TokenChoice(1.3f, 0, 1f, 0f, 17);
            dev.gearbox.sample.TokenChoice[] choices = {hot, null, new dev.gearbox.sample.TokenChoice(0f, 0, 1f, 0f, 0)};
            BatchStep.Rows got = chooser.step(a, feed, choices, new int[] {4, 0, 9});
            float[][] want = reader.step(b, feed);
            // tokens exactly; log-probabilities to rounding (lane sums may round differently once JIT-compiled)
            assertThat(got.chosen()[0].token()).isEqualTo(hot.choose(want[0], 4).token());
            assertThat(got.chosen()[0].logprob()).isCloseTo(hot.choose(want[0], 4).logprob(), org.assertj.core.api.Assertions.within(1e-4f));
            assertThat(got.chosen()[1]).isNull();
            assertThat(got.logits()[1]).containsExactly(want[1], org.assertj.core.api.Assertions.within(1e-5f));
            assertThat(got.chosen()[2].token()).isEqualTo(choices[2].choose(want[2], 9).token());
            assertThat(got.logits()[0]).isNull();
            for (int i = 0; i < 3; i++) assertThat(a.get(i).position()).isEqualTo(feed[i].length);
            assertThatThrownBy(() -> chooser.step(a, feed, new dev.gearbox.sample.TokenChoice[1], new int[1]))
                    .hasMessageContaining("choices");
        }
    }

    @Test
    void theCpuHasOneQueueSoEveryLaneIsTheBackendItself() throws Exception {
        try (Model m = load("llama", GGMLType.F32)) {
            assertThat(m.backend().lane(0)).isSameAs(m.backend());
            assertThat(m.backend().lane(3)).isSameAs(m.backend());
            assertThatThrownBy(() -> m.backend().lane(-1)).hasMessageContaining("lane index");
            try (Sequence s = m.newSequence(16, m.backend().lane(2))) {
                BatchStep step = m.newBatchStep(m.backend().lane(1));
                assertThat(step.step(List.of(s), new int[][] {{1, 2}})[0]).hasSize(300);
            }
        }
    }
}
