package dev.gearbox.sample;

import org.junit.jupiter.api.Test;

import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class SamplerTest {

    /** Logits whose softmax is exactly {@code probs}. */
    static float[] logitsOf(double... probs) {
        float[] l = new float[probs.length];
        for (int i = 0; i < probs.length; i++) l[i] = (float) Math.log(probs[i]);
        return l;
    }

    static SamplingParams.Builder plain() {
        // Everything off except what a test turns on; temperature 1 keeps the model's distribution.
        return SamplingParams.builder().temperature(1).topK(0).topP(1).minP(0).seed(7);
    }

    /** The set of tokens drawn over many samples. */
    static Set<Integer> support(SamplingParams p, float[] logits, int draws) {
        Sampler s = new Sampler(p);
        Set<Integer> seen = new HashSet<>();
        for (int i = 0; i < draws; i++) seen.add(s.sample(logits).token());
        return seen;
    }

    static int[] counts(SamplingParams p, float[] logits, int draws) {
        Sampler s = new Sampler(p);
        int[] c = new int[logits.length];
        for (int i = 0; i < draws; i++) c[s.sample(logits).token()]++;
        return c;
    }

    @Test
    void greedyPicksTheFirstOfTiedMaxima() {
        Sampler s = new Sampler(SamplingParams.greedy());
        assertThat(s.sample(new float[] {1f, 3f, 2f, 3f}).token()).isEqualTo(1);
        assertThat(s.sample(new float[] {5f, 5f}).token()).isEqualTo(0);
        assertThat(s.sample(new float[] {-2f, -1f, -1f}).token()).isEqualTo(1);
    }

    @Test
    void topKOfOneIsGreedyEvenWithTemperature() {
        float[] logits = {0.1f, 2.0f, 1.9f, 2.0f};
        assertThat(support(plain().topK(1).temperature(1.5f).build(), logits, 200)).containsExactly(1);
    }

    @Test
    void topKKeepsExactlyTheKMostLikely() {
        float[] logits = logitsOf(0.05, 0.30, 0.10, 0.25, 0.20, 0.10);
        // k = 3 keeps ids 1, 3, 4; ties for the last place go to the lower id (2 before 5).
        assertThat(support(plain().topK(3).build(), logits, 2000)).containsExactlyInAnyOrder(1, 3, 4);
        assertThat(support(plain().topK(4).build(), logits, 2000)).containsExactlyInAnyOrder(1, 3, 4, 2);
    }

    @Test
    void topPKeepsTheSmallestPrefixReachingP() {
        float[] logits = logitsOf(0.5, 0.3, 0.15, 0.05);
        // 0.5 < 0.7, 0.5 + 0.3 >= 0.7: ids 0 and 1.
        assertThat(support(plain().topP(0.7f).build(), logits, 2000)).containsExactlyInAnyOrder(0, 1);
        // 0.8 < 0.9, 0.95 >= 0.9: ids 0, 1, 2.
        assertThat(support(plain().topP(0.9f).build(), logits, 3000)).containsExactlyInAnyOrder(0, 1, 2);
        // A tiny p still keeps the best token.
        assertThat(support(plain().topP(0.01f).build(), logits, 200)).containsExactly(0);
    }

    @Test
    void topPAfterTopKNormalisesOverTheKept() {
        float[] logits = logitsOf(0.4, 0.2, 0.2, 0.1, 0.1);
        // After top-2 the distribution is {0: 2/3, 1: 1/3}; p = 0.6 keeps only id 0.
        assertThat(support(plain().topK(2).topP(0.6f).build(), logits, 500)).containsExactly(0);
        // Without top-k, 0.4 < 0.55 <= 0.4 + 0.2, so id 1 stays too (ids 1 and 2 tie: the lower id first).
        assertThat(support(plain().topP(0.55f).build(), logits, 2000)).containsExactlyInAnyOrder(0, 1);
    }

    @Test
    void minPDropsTokensBelowAFractionOfTheBest() {
        float[] logits = logitsOf(0.40, 0.25, 0.19, 0.10, 0.06);
        // 0.5 * 0.40 = 0.20: ids 0 and 1 survive, 0.19 does not.
        assertThat(support(plain().minP(0.5f).build(), logits, 2000)).containsExactlyInAnyOrder(0, 1);
        assertThat(support(plain().minP(0.2f).build(), logits, 4000)).containsExactlyInAnyOrder(0, 1, 2, 3);
        assertThat(support(plain().minP(0.5f).topK(10).build(), logits, 2000)).containsExactlyInAnyOrder(0, 1);
    }

    @Test
    void drawsFollowTheDistribution() {
        float[] logits = logitsOf(0.6, 0.3, 0.1);
        int[] c = counts(plain().build(), logits, 20000);
        assertThat(c[0] / 20000.0).isCloseTo(0.6, within(0.02));
        assertThat(c[1] / 20000.0).isCloseTo(0.3, within(0.02));
        assertThat(c[2] / 20000.0).isCloseTo(0.1, within(0.02));
    }

    @Test
    void lowTemperatureSharpensAndHighTemperatureFlattens() {
        float[] logits = logitsOf(0.6, 0.3, 0.1);
        int[] cold = counts(plain().temperature(0.25f).build(), logits, 20000);
        // p^4 normalised: 0.6^4 / (0.6^4 + 0.3^4 + 0.1^4) = 0.9403
        assertThat(cold[0] / 20000.0).isCloseTo(0.9403, within(0.01));
        int[] hot = counts(plain().temperature(100f).build(), logits, 30000);
        for (int n : hot) assertThat(n / 30000.0).isCloseTo(1 / 3.0, within(0.02));
    }

    @Test
    void repeatPenaltyDividesPositiveAndMultipliesNegativeLogits() {
        float[] logits = {2.0f, 1.5f, -1.0f, -1.2f};
        Sampler s = new Sampler(plain().temperature(0).repeatPenalty(2f).build());
        assertThat(s.sample(logits).token()).isEqualTo(0);
        s.accept(0); // 2.0 -> 1.0, below 1.5
        assertThat(s.sample(logits).token()).isEqualTo(1);

        Sampler neg = new Sampler(plain().temperature(0).repeatPenalty(2f).build());
        float[] allNegative = {-1.0f, -1.5f};
        neg.accept(0); // -1.0 -> -2.0, below -1.5
        assertThat(neg.sample(allNegative).token()).isEqualTo(1);
    }

    @Test
    void repeatPenaltyOnlyLooksAtTheLastNTokens() {
        float[] logits = {2.0f, 1.5f, 0f};
        Sampler s = new Sampler(plain().temperature(0).repeatPenalty(2f).repeatLastN(2).build());
        s.accept(0);
        s.accept(2);
        assertThat(s.sample(logits).token()).isEqualTo(1);
        s.accept(2); // token 0 leaves the window of 2
        assertThat(s.sample(logits).token()).isEqualTo(0);
    }

    @Test
    void frequencyAndPresencePenaltiesSubtract() {
        float[] logits = {3.0f, 2.0f};
        Sampler freq = new Sampler(plain().temperature(0).frequencyPenalty(0.4f).build());
        freq.accept(0);
        freq.accept(0);
        assertThat(freq.sample(logits).token()).isEqualTo(0); // 3.0 - 0.8 = 2.2 > 2.0
        freq.accept(0);
        assertThat(freq.sample(logits).token()).isEqualTo(1); // 3.0 - 1.2 = 1.8
        Sampler presence = new Sampler(plain().temperature(0).presencePenalty(1.5f).build());
        presence.accept(0);
        assertThat(presence.sample(logits).token()).isEqualTo(1); // 1.5 once, however often
    }

    @Test
    void sameSeedSameTokensAndDifferentSeedsDiffer() {
        float[] logits = new float[1000];
        Random r = new Random(1);
        for (int i = 0; i < logits.length; i++) logits[i] = (float) r.nextGaussian();
        SamplingParams p = plain().topK(0).build();
        int[] a = draws(p.toBuilder().seed(42).build(), logits, 50);
        int[] b = draws(p.toBuilder().seed(42).build(), logits, 50);
        int[] c = draws(p.toBuilder().seed(43).build(), logits, 50);
        assertThat(a).isEqualTo(b);
        assertThat(a).isNotEqualTo(c);
    }

    @Test
    void negativeSeedsAreSeedsToo() {
        float[] logits = new float[1000];
        Random r = new Random(2);
        for (int i = 0; i < logits.length; i++) logits[i] = (float) r.nextGaussian();
        SamplingParams p = plain().topK(0).build();
        int[] a = draws(p.toBuilder().seed(-1).build(), logits, 50);
        assertThat(draws(p.toBuilder().seed(-1).build(), logits, 50)).isEqualTo(a);
        assertThat(draws(p.toBuilder().seed(-2).build(), logits, 50)).isNotEqualTo(a);
        assertThat(new Sampler(p.toBuilder().seed(-5).build()).seed()).isEqualTo(-5);
    }

    @Test
    void logitBiasIsAddedBeforeTheChoice() {
        float[] logits = {3.0f, 2.0f, 1.0f};
        assertThat(new Sampler(plain().temperature(0).logitBias(java.util.Map.of(2, 100f)).build()).sample(logits).token()).isEqualTo(2);
        assertThat(new Sampler(plain().temperature(0).logitBias(java.util.Map.of(0, -100f)).build()).sample(logits).token()).isEqualTo(1);
        // sampled: a banned token is never drawn
        Sampler banned = new Sampler(plain().logitBias(java.util.Map.of(0, -100f, 1, -100f)).seed(3).build());
        for (int i = 0; i < 200; i++) assertThat(banned.sample(logits).token()).isEqualTo(2);
        // the log-probability stays the model's own
        Sampler.Choice c = new Sampler(plain().temperature(0).logitBias(java.util.Map.of(2, 100f)).build()).sample(logits);
        assertThat(c.logprob()).isEqualTo(Sampler.logSoftmaxAt(logits, 2));
        assertThatThrownBy(() -> new Sampler(plain().logitBias(java.util.Map.of(3, 1f)).build()).sample(logits))
                .hasMessageContaining("outside the vocabulary");
    }

    @Test
    void answerScopedPenaltiesCountOnlyGeneratedTokens() {
        float[] logits = {3.0f, 2.0f};
        SamplingParams p = plain().temperature(0).presencePenalty(1.5f).repeatLastN(0)
                .penaltyScope(SamplingParams.PenaltyScope.ANSWER).build();
        Sampler s = new Sampler(p);
        s.acceptAll(new int[] {0, 0, 0});   // the prompt: not counted
        assertThat(s.sample(logits).token()).isEqualTo(0);
        s.accept(0);                        // the answer: counted, whatever repeatLastN says
        assertThat(s.sample(logits).token()).isEqualTo(1);
        Sampler window = new Sampler(p.toBuilder().penaltyScope(SamplingParams.PenaltyScope.WINDOW).repeatLastN(-1).build());
        window.acceptAll(new int[] {0});    // llama.cpp's window counts the prompt
        assertThat(window.sample(logits).token()).isEqualTo(1);
    }

    @Test
    void unseededSamplerReportsTheSeedItDrew() {
        float[] logits = logitsOf(0.25, 0.25, 0.25, 0.25);
        Sampler s = new Sampler(plain().randomSeed().build());
        int[] first = new int[30];
        for (int i = 0; i < first.length; i++) first[i] = s.sample(logits).token();
        assertThat(s.seed()).isNotNegative();
        assertThat(draws(plain().seed(s.seed()).build(), logits, 30)).isEqualTo(first);
    }

    static int[] draws(SamplingParams p, float[] logits, int n) {
        Sampler s = new Sampler(p);
        return IntStream.range(0, n).map(i -> s.sample(logits).token()).toArray();
    }

    @Test
    void logprobIsLogSoftmaxOfTheRawLogits() {
        float[] logits = logitsOf(0.5, 0.25, 0.25);
        Sampler s = new Sampler(SamplingParams.builder().temperature(0).repeatPenalty(3f).build());
        Sampler.Choice c = s.sample(logits);
        assertThat(c.token()).isEqualTo(0);
        assertThat(c.logprob()).isCloseTo((float) Math.log(0.5), within(1e-6f));
        s.accept(0); // penalties change the choice, not the model's probability of it
        Sampler.Choice d = s.sample(logits);
        assertThat(d.token()).isEqualTo(1);
        assertThat(d.logprob()).isCloseTo((float) Math.log(0.25), within(1e-6f));
    }

    @Test
    void largeVocabularyTopKMatchesAFullSort() {
        int n = 150_000;
        float[] logits = new float[n];
        Random r = new Random(3);
        for (int i = 0; i < n; i++) logits[i] = (float) (r.nextGaussian() * 2);
        float[] sorted = logits.clone();
        java.util.Arrays.sort(sorted);
        float fifth = sorted[n - 5];
        Set<Integer> top5 = new HashSet<>();
        for (int i = 0; i < n; i++) if (logits[i] >= fifth) top5.add(i);
        assertThat(top5).hasSize(5);
        assertThat(support(plain().topK(5).temperature(5f).build(), logits, 500)).isEqualTo(top5);
    }

    @Test
    void topPOverAFlatLargeVocabularyKeepsExactlyTheMassNeeded() {
        // 3000 equal logits: p = 0.5 needs 1500 tokens (more than the first selection of 1024), lowest ids first.
        float[] logits = new float[3000];
        Set<Integer> seen = support(plain().topP(0.5f).build(), logits, 6000);
        assertThat(seen).allSatisfy(t -> assertThat(t).isLessThan(1501));
        assertThat(seen.stream().mapToInt(Integer::intValue).max().orElseThrow()).isGreaterThan(1450);
    }

    @Test
    void minPWithoutTopKOnALargeVocabulary() {
        float[] logits = new float[100_000];
        java.util.Arrays.fill(logits, -10f);
        logits[77_777] = 0f;
        logits[12] = -0.5f;   // p ratio e^-0.5 = 0.61: kept by min-p 0.5
        logits[99_999] = -1f; // e^-1 = 0.37: dropped
        assertThat(support(plain().minP(0.5f).build(), logits, 2000)).containsExactlyInAnyOrder(77_777, 12);
    }

    @Test
    void negativeZeroAndInfinityAreOrderedLikeNumbers() {
        float[] logits = {Float.NEGATIVE_INFINITY, -0.0f, -3f, 0.5f, -1e-30f};
        assertThat(support(plain().topK(2).temperature(50f).build(), logits, 500)).containsExactlyInAnyOrder(1, 3);
        assertThat(support(plain().temperature(1f).build(), logits, 2000)).doesNotContain(0);
    }

    @Test
    void badParametersAreRejectedWithTheirName() {
        assertThatThrownBy(() -> SamplingParams.builder().temperature(-1).build()).hasMessageContaining("temperature");
        assertThatThrownBy(() -> SamplingParams.builder().topP(1.5f).build()).hasMessageContaining("top-p");
        assertThatThrownBy(() -> SamplingParams.builder().minP(-0.1f).build()).hasMessageContaining("min-p");
        assertThatThrownBy(() -> SamplingParams.builder().repeatPenalty(0).build()).hasMessageContaining("repeat penalty");
        assertThatThrownBy(() -> SamplingParams.builder().stop(List.of("")).build()).hasMessageContaining("stop string");
    }

    @Test
    void defaultsAreLlamaCpps() {
        SamplingParams d = SamplingParams.defaults();
        assertThat(d.temperature()).isEqualTo(0.8f);
        assertThat(d.topK()).isEqualTo(40);
        assertThat(d.topP()).isEqualTo(0.95f);
        assertThat(d.minP()).isEqualTo(0.05f);
        assertThat(d.repeatPenalty()).isEqualTo(1.0f);
        assertThat(d.repeatLastN()).isEqualTo(64);
    }
}
