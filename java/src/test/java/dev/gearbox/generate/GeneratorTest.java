package dev.gearbox.generate;

import dev.gearbox.sample.SamplingParams;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GeneratorTest {
    final FakeModel m = new FakeModel("Hello", ",", " wor", "ld", "!", " S", "TOP", " end", "ST", "OP");
    final List<String> pieces = new ArrayList<>();

    GenerationResult run(FakeModel.Scripted seq, int[] prompt, SamplingParams p) {
        return new Generator(m.tokenizer()).generate(seq, prompt, p, pieces::add);
    }

    static SamplingParams greedy(int max, String... stops) {
        return SamplingParams.builder().temperature(0).maxTokens(max).stop(List.of(stops)).build();
    }

    @Test
    void prefillsOnceThenDecodesOneTokenAtATimeUntilEos() {
        int[] script = {m.id(","), m.id(" wor"), m.id("ld"), m.id("!"), FakeModel.EOS};
        FakeModel.Scripted seq = m.sequence(64, script);
        int[] prompt = {FakeModel.BOS, m.id("Hello")};
        GenerationResult r = run(seq, prompt, greedy(-1));

        assertThat(seq.calls.get(0)).containsExactly(prompt);
        assertThat(seq.calls.subList(1, seq.calls.size())).allSatisfy(c -> assertThat(c).hasSize(1));
        // The answer's tokens: the EOS that ended it is not one of them.
        assertThat(r.tokens()).containsExactly(java.util.Arrays.copyOf(script, 4));
        assertThat(r.text()).isEqualTo(", world!");
        assertThat(String.join("", pieces)).isEqualTo(", world!");
        assertThat(r.stopReason()).isEqualTo(StopReason.END_OF_GENERATION);
        assertThat(r.logprobs()).hasSize(4);
        for (float lp : r.logprobs()) assertThat(lp).isLessThanOrEqualTo(0f);
        // The EOS token is sampled, never fed back.
        assertThat(seq.position()).isEqualTo(2 + 4);
        assertThat(r.decodeSteps()).isEqualTo(4);
        assertThat(r.promptTokens()).containsExactly(prompt);
    }

    @Test
    void stopsAtMaxTokens() {
        FakeModel.Scripted seq = m.sequence(64, m.id(" wor"), m.id("ld"), m.id("!"));
        GenerationResult r = run(seq, new int[] {FakeModel.BOS}, greedy(2));
        assertThat(r.tokens()).hasSize(2);
        assertThat(r.text()).isEqualTo(" world");
        assertThat(r.stopReason()).isEqualTo(StopReason.MAX_TOKENS);
        assertThat(seq.position()).isEqualTo(2); // BOS + the first generated token
    }

    @Test
    void stopsWhenTheContextIsFull() {
        FakeModel.Scripted seq = m.sequence(4, m.id("!"));
        GenerationResult r = run(seq, new int[] {FakeModel.BOS, m.id("Hello")}, greedy(-1));
        assertThat(r.stopReason()).isEqualTo(StopReason.CONTEXT_FULL);
        assertThat(seq.position()).isEqualTo(4);
        assertThat(r.tokens()).hasSize(3); // two fed back, the third sampled with no room left
        assertThat(r.text()).isEqualTo("!!!");
    }

    @Test
    void promptLongerThanTheContextIsAClearError() {
        FakeModel.Scripted seq = m.sequence(2, m.id("!"));
        assertThatThrownBy(() -> run(seq, new int[] {0, 3, 4}, greedy(5)))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("3 tokens").hasMessageContaining("room for only 2");
        assertThatThrownBy(() -> run(m.sequence(8, 3), new int[0], greedy(5))).hasMessageContaining("no tokens");
        assertThatThrownBy(() -> run(m.sequence(8, 3), new int[] {999}, greedy(5))).hasMessageContaining("999");
    }

    @Test
    void stopStringInsideOneTokenIsCutAndNotShown() {
        FakeModel.Scripted seq = m.sequence(64, m.id(","), m.id(" S"), m.id("TOP"), m.id(" end"));
        GenerationResult r = run(seq, new int[] {FakeModel.BOS}, greedy(-1, "TOP"));
        assertThat(r.stopReason()).isEqualTo(StopReason.STOP_STRING);
        assertThat(r.stopString()).isEqualTo("TOP");
        assertThat(r.text()).isEqualTo(", S");
        assertThat(String.join("", pieces)).isEqualTo(", S");
        assertThat(r.tokens()).containsExactly(m.ids(",", " S", "TOP"));
    }

    @Test
    void stopStringSpanningTokensIsHeldBackThenDropped() {
        FakeModel.Scripted seq = m.sequence(64, m.id(","), m.id(" S"), m.id("TOP"), m.id(" end"));
        GenerationResult r = run(seq, new int[] {FakeModel.BOS}, greedy(-1, " STOP"));
        assertThat(r.text()).isEqualTo(",");
        // " S" could start " STOP", so it never reached the listener.
        assertThat(pieces).containsExactly(",");
        assertThat(r.stopReason()).isEqualTo(StopReason.STOP_STRING);
    }

    @Test
    void heldBackTextIsReleasedWhenItTurnsOutNotToBeAStop() {
        FakeModel.Scripted seq = m.sequence(64, m.id(" S"), m.id(" end"), m.id("!"));
        GenerationResult r = run(seq, new int[] {FakeModel.BOS}, greedy(3, " STOP"));
        assertThat(pieces).containsExactly(" S end", "!");
        assertThat(r.text()).isEqualTo(" S end!");
        assertThat(r.stopReason()).isEqualTo(StopReason.MAX_TOKENS);
    }

    @Test
    void textHeldBackAtTheEndIsFlushed() {
        FakeModel.Scripted seq = m.sequence(64, m.id("!"), m.id(" S"), FakeModel.EOS);
        GenerationResult r = run(seq, new int[] {FakeModel.BOS}, greedy(-1, " STOP"));
        assertThat(String.join("", pieces)).isEqualTo("! S");
        assertThat(r.text()).isEqualTo("! S");
    }

    @Test
    void stopSplitOverThreeTokensAndTheEarliestOfSeveralStopsWins() {
        FakeModel.Scripted seq = m.sequence(64, m.id("Hello"), m.id(" S"), m.id("TOP"), m.id("!"));
        GenerationResult r = run(seq, new int[] {FakeModel.BOS}, greedy(-1, "TOP!", "llo S"));
        assertThat(r.text()).isEqualTo("He");
        assertThat(r.stopString()).isEqualTo("llo S");
        assertThat(String.join("", pieces)).isEqualTo("He");
    }

    @Test
    void multiByteCharactersSplitAcrossTokensStreamWhole() {
        int e1 = m.addBytes(0xF0, 0x9F), e2 = m.addBytes(0xA6), e3 = m.addBytes(0x99), cafe = m.addBytes('c', 'a', 'f', 0xC3), acute = m.addBytes(0xA9);
        FakeModel.Scripted seq = m.sequence(64, cafe, acute, e1, e2, e3, e1, FakeModel.EOS);
        GenerationResult r = run(seq, new int[] {FakeModel.BOS}, greedy(-1));
        assertThat(pieces).containsExactly("caf", "é", "🦙", "\uFFFD");
        assertThat(r.text()).isEqualTo("café🦙\uFFFD");
    }

    @Test
    void controlTokensProduceNoText() {
        FakeModel.Scripted seq = m.sequence(64, m.id("Hello"), FakeModel.CONTROL, m.id("!"));
        GenerationResult r = run(seq, new int[] {FakeModel.BOS}, greedy(3));
        assertThat(r.text()).isEqualTo("Hello!");
        assertThat(r.tokens()).containsExactly(m.id("Hello"), FakeModel.CONTROL, m.id("!"));
    }

    @Test
    void historyOnlyFeedsTheNewPrompt() {
        FakeModel.Scripted seq = m.sequence(64, m.id("!"), m.id("!"), FakeModel.EOS);
        seq.forward(new int[] {FakeModel.BOS, m.id("Hello")});
        GenerationResult r = new Generator(m.tokenizer()).generate(seq, new int[] {FakeModel.BOS, m.id("Hello")},
                new int[] {m.id(",")}, greedy(-1), piece -> {});
        assertThat(seq.calls.get(1)).containsExactly(m.id(","));
        assertThat(r.promptTokens()).containsExactly(m.id(","));
    }

    @Test
    void zeroMaxTokensGeneratesNothing() {
        GenerationResult r = run(m.sequence(8, m.id("!")), new int[] {FakeModel.BOS}, greedy(0));
        assertThat(r.tokens()).isEmpty();
        assertThat(r.text()).isEmpty();
        assertThat(r.stopReason()).isEqualTo(StopReason.MAX_TOKENS);
    }

    @Test
    void aSequenceThatChoosesOnItsDeviceIsAskedForTokensNotLogits() {
        int[] script = {m.id(","), m.id(" wor"), m.id("ld"), m.id("!"), FakeModel.EOS};
        FakeModel.Scripted host = m.sequence(64, script), device = m.sequence(64, script);
        device.onDevice = true;
        int[] prompt = {FakeModel.BOS, m.id("Hello")};
        GenerationResult a = run(host, prompt, greedy(-1));
        GenerationResult b = run(device, prompt, greedy(-1));
        assertThat(b.tokens()).containsExactly(a.tokens());
        assertThat(b.text()).isEqualTo(", world!");
        assertThat(b.logprobs()).containsExactly(a.logprobs(), org.assertj.core.api.Assertions.within(1e-5f));
        assertThat(device.chooseCalls).as("prefill + one per fed-back token").isEqualTo(1 + 4);
        assertThat(host.chooseCalls).isZero();
        assertThat(device.calls).containsExactlyElementsOf(host.calls);
    }

    @Test
    void penaltiesNeedTheLogitsSoTheHostSamples() {
        FakeModel.Scripted device = m.sequence(64, m.id(","), m.id(" wor"), FakeModel.EOS);
        device.onDevice = true;
        SamplingParams p = SamplingParams.builder().temperature(0.8f).repeatPenalty(1.3f).seed(3).maxTokens(5).build();
        GenerationResult r = run(device, new int[] {FakeModel.BOS}, p);
        assertThat(device.chooseCalls).isZero();
        assertThat(r.tokens()).isNotEmpty();
    }

    @Test
    void onDeviceSamplingWithASeedRepeats() {
        // logits of 10 everywhere on the script's token, 0 elsewhere: temperature 5 makes the draw a real choice
        SamplingParams p = SamplingParams.builder().temperature(5f).topK(0).topP(1f).minP(0f).seed(11).maxTokens(12).build();
        int[][] runs = new int[2][];
        for (int i = 0; i < 2; i++) {
            FakeModel.Scripted seq = m.sequence(64, m.id("Hello"));
            seq.onDevice = true;
            runs[i] = run(seq, new int[] {FakeModel.BOS}, p).tokens();
        }
        assertThat(runs[1]).containsExactly(runs[0]);
        assertThat(java.util.Arrays.stream(runs[0]).distinct().count()).as("temperature 5 spreads the draws").isGreaterThan(1);
    }
}
