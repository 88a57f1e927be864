package dev.gearbox.router;

import dev.gearbox.ladder.Ladder;
import dev.gearbox.ladder.TestLadders;
import dev.gearbox.model.Model;
import dev.gearbox.model.Sequence;
import dev.gearbox.sample.Sampler;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Gatekeeper features: shape, determinism, and the signals checked against a hand computation. */
class GatekeeperTest {
    @TempDir
    Path dir;

    @Test
    void featureShapeAndNames() throws Exception {
        try (Ladder l = Ladder.open(TestLadders.ladder(dir, "", "")); Gatekeeper g = new Gatekeeper(l.gatekeeperModel(), 64)) {
            int dim = l.gatekeeperModel().config().dim();
            Features f = g.features("12+34=");
            assertThat(f.vector()).hasSize(2 * dim + Gatekeeper.SCALAR_FEATURES.size());
            assertThat(f.names()).isEqualTo(g.featureNames()).hasSize(f.vector().length).doesNotHaveDuplicates();
            assertThat(f.names().get(0)).isEqualTo("hidden_mean_0");
            assertThat(f.names().get(dim)).isEqualTo("hidden_last_0");
            assertThat(f.names().subList(2 * dim, f.names().size())).isEqualTo(Gatekeeper.SCALAR_FEATURES);
            for (double v : f.vector()) assertThat(Double.isFinite(v)).isTrue();
            assertThat(f.nanos()).isPositive();
            assertThat(f.flops()).isPositive();
        }
    }

    @Test
    void deterministicAndIndependentOfEarlierPrompts() throws Exception {
        try (Ladder l = Ladder.open(TestLadders.ladder(dir, "", "")); Gatekeeper g = new Gatekeeper(l.gatekeeperModel(), 64)) {
            double[] first = g.features("what is 7 times 8?").vector();
            g.features("a completely different and much longer prompt that fills the cache with other positions");
            assertThat(g.features("what is 7 times 8?").vector()).containsExactly(first);
            assertThat(g.features("what is 7 times 9?").vector()).isNotEqualTo(first);
        }
    }

    @Test
    void signalsMatchAHandComputation() throws Exception {
        try (Ladder l = Ladder.open(TestLadders.ladder(dir, "", "")); Gatekeeper g = new Gatekeeper(l.gatekeeperModel(), 64)) {
            Model m = l.gatekeeperModel();
            String prompt = "the happy boy saw a big dog";
            int[] ids = m.tokenizer().encode(prompt, true, false);
            float[][] logits;
            float[][] hidden;
            try (Sequence s = m.newSequence(64)) {
                Sequence.Outputs o = s.forwardWithHidden(ids);
                logits = o.logits();
                hidden = o.hidden();
            }
            double[] surprisal = new double[ids.length - 1];
            for (int p = 0; p + 1 < ids.length; p++) surprisal[p] = -Sampler.logSoftmaxAt(logits[p], ids[p + 1]);
            double mean = java.util.Arrays.stream(surprisal).average().orElseThrow();
            double max = java.util.Arrays.stream(surprisal).max().orElseThrow();
            double lastK = java.util.Arrays.stream(surprisal, Math.max(0, surprisal.length - Gatekeeper.LAST_K), surprisal.length).average().orElseThrow();
            float[] last = logits[ids.length - 1];
            double entropy = 0, top1 = 0;
            for (int i = 0; i < last.length; i++) {
                double p = Math.exp(Sampler.logSoftmaxAt(last, i));
                entropy -= p > 0 ? p * Math.log(p) : 0;
                top1 = Math.max(top1, p);
            }

            Features f = g.features(prompt);
            Signals s = f.signals();
            assertThat(s.promptTokens()).isEqualTo(ids.length);
            assertThat(s.promptChars()).isEqualTo(prompt.length());
            assertThat(s.meanSurprisal()).isCloseTo(mean, within(1e-4));
            assertThat(s.maxSurprisal()).isCloseTo(max, within(1e-4));
            assertThat(s.lastKMeanSurprisal()).isCloseTo(lastK, within(1e-4));
            assertThat(s.stdSurprisal()).isPositive();
            assertThat(s.entropy()).isCloseTo(entropy, within(1e-4)).isLessThanOrEqualTo(Math.log(s.vocabSize()) + 1e-9);
            assertThat(s.top1Prob()).isCloseTo(top1, within(1e-6));
            int dim = m.config().dim();
            assertThat(f.vector()[dim + 3]).isCloseTo(hidden[ids.length - 1][3], within(1e-6));
            double meanH = 0;
            for (float[] h : hidden) meanH += h[5];
            assertThat(f.vector()[5]).isCloseTo(meanH / ids.length, within(1e-5));
            assertThat(f.vector()[2 * dim]).isCloseTo(Math.log1p(ids.length), within(1e-12));
            assertThat(s.asMap()).containsKeys("surprisal_mean", "entropy_last", "top1_prob_last");
        }
    }

    @Test
    void longPromptsAreCutToTheGatekeeperContext() throws Exception {
        try (Ladder l = Ladder.open(TestLadders.ladder(dir, "", "")); Gatekeeper g = new Gatekeeper(l.gatekeeperModel(), 32)) {
            Signals s = g.features("x".repeat(200)).signals();
            assertThat(s.promptTokens()).isEqualTo(32);
            assertThat(s.promptChars()).isEqualTo(200);
            assertThat(g.features("").signals().promptTokens()).isEqualTo(1);   // just BOS
        }
    }

    @Test
    void aBatchedReadGivesEachPromptItsOwnReadingsFeatures() throws Exception {
        try (Ladder l = Ladder.open(TestLadders.ladder(dir, "", "")); Gatekeeper g = new Gatekeeper(l.gatekeeperModel(), 64)) {
            java.util.List<String> prompts = java.util.List.of("12+34=", "what is 7 times 8?", "x", "a somewhat longer prompt with more tokens in it");
            var batch = g.read(prompts, null);
            for (int i = 0; i < prompts.size(); i++) {
                double[] alone = g.features(prompts.get(i)).vector();
                double[] together = batch.get(i).features().vector();
                for (int k = 0; k < alone.length; k++) assertThat(together[k]).as("prompt %d feature %d", i, k).isCloseTo(alone[k], within(1e-5));
            }
        }
    }

    @Test
    void earlyLayersAndALastTokensWindowAreFeatureSetsOfTheirOwn() throws Exception {
        try (Ladder l = Ladder.open(TestLadders.ladder(dir, "", ""))) {
            Model m = l.tier("l").model();   // two layers: read the first only
            int dim = m.config().dim();
            var config = new dev.gearbox.ladder.LadderConfig.GatekeeperConfig(null, 64, 5, 1, 2048);
            try (Gatekeeper early = new Gatekeeper(m, config); Gatekeeper full = new Gatekeeper(m, 64)) {
                assertThat(early.readsLogits()).isFalse();
                assertThat(early.featureNames()).hasSize(2 * dim + 2).endsWith("log_prompt_tokens", "log_prompt_chars");
                String prompt = "a somewhat longer prompt with more tokens in it";
                Features f = early.features(prompt);
                assertThat(f.signals().promptTokens()).as("the last 5 tokens only").isEqualTo(5);
                assertThat(Double.isNaN(f.signals().entropy())).as("no logits read").isTrue();
                assertThat(f.flops()).isLessThan(full.features(prompt).flops() * 5 / 10);
                // It reads exactly the prompt's last 5 tokens.
                int[] ids = m.tokenizer().encode(prompt, true, false);
                int[] last5 = java.util.Arrays.copyOfRange(ids, ids.length - 5, ids.length);
                assertThat(early.tokens(prompt)).containsExactly(last5);
                assertThat(ZeroShotRule.difficulty(f.signals())).isEqualTo(ZeroShotRule.length(f.signals()));
            }
        }
    }
}
