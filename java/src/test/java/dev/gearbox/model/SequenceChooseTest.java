package dev.gearbox.model;

import dev.gearbox.backend.cpu.CpuBackend;
import dev.gearbox.sample.TokenChoice;
import dev.gearbox.tensor.GGMLType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Choosing where the logits are (Sequence.forwardChoose) is the same choice as reading them and choosing on the host. */
class SequenceChooseTest {

    @Test
    void forwardChooseEqualsChoosingFromTheReadLogits(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("m.gguf");
        TestModels.small("llama", GGMLType.F32, 3).build().write(file);
        TokenChoice choice = new TokenChoice(1.2f, 50, 0.95f, 0.02f, 42);
        try (Model m = Model.load(file, new CpuBackend()); Sequence a = m.newSequence(64); Sequence b = m.newSequence(64)) {
            int[] prompt = {1, 17, 99, 250, 3};
            TokenChoice.Choice viaBackend = a.forwardChoose(prompt, choice, 0);
            TokenChoice.Choice viaHost = choice.choose(b.forward(prompt), 0);
            int distinct = 0, last = -1;
            for (int step = 1; step <= 20; step++) {
                // Same token; the log-probability to float rounding: the Vector API's lane sums may
                // round differently before and after the JIT compiles them, between the two sequences.
                assertThat(viaBackend.token()).as("draw " + step).isEqualTo(viaHost.token());
                assertThat(viaBackend.logprob()).as("draw " + step).isCloseTo(viaHost.logprob(), org.assertj.core.api.Assertions.within(1e-4f));
                assertThat(a.position()).isEqualTo(b.position());
                int next = viaBackend.token();
                if (next != last) distinct++;
                last = next;
                viaBackend = a.forwardChoose(new int[] {next}, choice, step);
                viaHost = choice.choose(b.forward(new int[] {next}), step);
            }
            assertThat(distinct).as("a random model at temperature 1.2 does not repeat one token").isGreaterThan(3);
        }
    }
}
