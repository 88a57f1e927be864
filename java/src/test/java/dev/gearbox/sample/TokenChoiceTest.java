package dev.gearbox.sample;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.Set;

import static dev.gearbox.sample.SamplerTest.logitsOf;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class TokenChoiceTest {

    static TokenChoice sampled(int topK, float topP, float minP) {
        return new TokenChoice(1f, topK, topP, minP, 1234);
    }

    static int[] counts(TokenChoice c, float[] logits, int draws) {
        int[] n = new int[logits.length];
        for (int step = 0; step < draws; step++) n[c.choose(logits, step).token()]++;
        return n;
    }

    static Set<Integer> support(TokenChoice c, float[] logits, int draws) {
        Set<Integer> seen = new HashSet<>();
        for (int step = 0; step < draws; step++) seen.add(c.choose(logits, step).token());
        return seen;
    }

    @Test
    void noiseIsSplitMix64SoTheCudaKernelCanMakeTheSameNumbers() {
        // splitmix64's first output from state 0 (its published test value); sample.cu's mix64 is the same function
        assertThat(GumbelNoise.mix64(0)).isEqualTo(0xE220A8397B1DCDAFL);
        float u = GumbelNoise.uniform(7, 3, 42);
        assertThat(u).isGreaterThan(0f).isLessThan(1f);
        assertThat(GumbelNoise.uniform(7, 3, 42)).isEqualTo(u);
        assertThat(GumbelNoise.uniform(7, 4, 42)).isNotEqualTo(u);
        assertThat(GumbelNoise.uniform(8, 3, 42)).isNotEqualTo(u);
    }

    @Test
    void greedyIsTheArgmaxWithItsLogprob() {
        float[] logits = {0.5f, 3f, -1f, 3f};
        TokenChoice.Choice c = new TokenChoice(0f, 40, 0.95f, 0.05f, 9).choose(logits, 0);
        assertThat(c.token()).isEqualTo(1);
        assertThat(c.logprob()).isCloseTo(Sampler.logSoftmaxAt(logits, 1), within(1e-6f));
    }

    @Test
    void drawsFollowTheDistributionAndDependOnlyOnSeedAndStep() {
        float[] logits = logitsOf(0.6, 0.3, 0.1);
        int[] c = counts(sampled(0, 1f, 0f), logits, 20000);
        assertThat(c[0] / 20000.0).isCloseTo(0.6, within(0.02));
        assertThat(c[1] / 20000.0).isCloseTo(0.3, within(0.02));
        assertThat(c[2] / 20000.0).isCloseTo(0.1, within(0.02));
        TokenChoice a = sampled(0, 1f, 0f);
        for (int step = 0; step < 50; step++) {
            TokenChoice.Choice x = a.choose(logits, step);
            assertThat(a.choose(logits, step)).isEqualTo(x); // a pure function: a replay chooses the same
            assertThat(x.logprob()).isCloseTo(Sampler.logSoftmaxAt(logits, x.token()), within(1e-6f));
        }
        int differ = 0;
        TokenChoice other = new TokenChoice(1f, 0, 1f, 0f, 99);
        for (int step = 0; step < 200; step++) if (other.choose(logits, step).token() != a.choose(logits, step).token()) differ++;
        assertThat(differ).as("another seed draws other tokens").isGreaterThan(40);
    }

    @Test
    void cutsAreTheSamplersCuts() {
        float[] logits = logitsOf(0.4, 0.3, 0.2, 0.06, 0.04);
        assertThat(support(sampled(2, 1f, 0f), logits, 2000)).containsExactlyInAnyOrder(0, 1);
        assertThat(support(sampled(0, 0.65f, 0f), logits, 2000)).containsExactlyInAnyOrder(0, 1);
        assertThat(support(sampled(0, 1f, 0.5f), logits, 2000)).containsExactlyInAnyOrder(0, 1, 2);
        assertThat(support(sampled(0, 1f, 0f), logits, 4000)).containsExactlyInAnyOrder(0, 1, 2, 3, 4);
        // low temperature sharpens towards the best
        int[] cold = counts(new TokenChoice(0.2f, 0, 1f, 0f, 5), logits, 4000);
        assertThat(cold[0] / 4000.0).isGreaterThan(0.7);
    }

    @Test
    void onlyPenaltyFreeSettingsAreOneStepChoices() {
        SamplingParams plain = SamplingParams.builder().temperature(0.7f).topK(20).topP(0.9f).minP(0.1f).build();
        TokenChoice c = TokenChoice.of(plain, 77);
        assertThat(c).isEqualTo(new TokenChoice(0.7f, 20, 0.9f, 0.1f, 77));
        assertThat(TokenChoice.of(plain.toBuilder().repeatPenalty(1.1f).build(), 77)).isNull();
        assertThat(TokenChoice.of(plain.toBuilder().presencePenalty(0.5f).build(), 77)).isNull();
        assertThat(TokenChoice.of(plain.toBuilder().frequencyPenalty(0.5f).build(), 77)).isNull();
        // a penalty over an empty window changes nothing
        assertThat(TokenChoice.of(plain.toBuilder().repeatPenalty(1.1f).repeatLastN(0).build(), 77)).isNotNull();
        // OpenAI-scoped penalties count the answer whatever the window; a logit bias needs the host too
        assertThat(TokenChoice.of(plain.toBuilder().presencePenalty(0.5f).repeatLastN(0)
                .penaltyScope(SamplingParams.PenaltyScope.ANSWER).build(), 77)).isNull();
        assertThat(TokenChoice.of(plain.toBuilder().logitBias(java.util.Map.of(3, -100f)).build(), 77)).isNull();
        assertThatThrownBy(() -> new TokenChoice(-1f, 0, 1f, 0f, 1)).hasMessageContaining("temperature");
        assertThatThrownBy(() -> new TokenChoice(1f, 0, 1.5f, 0f, 1)).hasMessageContaining("top-p");
    }
}
