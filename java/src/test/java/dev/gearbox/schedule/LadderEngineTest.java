package dev.gearbox.schedule;

import dev.gearbox.ladder.Ladder;
import dev.gearbox.ladder.TestLadders;
import dev.gearbox.ladder.Tier;

import dev.gearbox.model.Model;
import dev.gearbox.model.ModelConfig;
import dev.gearbox.model.Sequence;
import dev.gearbox.router.Decision;
import dev.gearbox.router.Router;
import dev.gearbox.sample.Sampler;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** Single-tier answers, ensembles, escalation and compute accounting on small random tiers. */
class LadderEngineTest {
    @TempDir
    Path dir;

    private static final String PROMPT = "the little girl";

    /** Greedy answer of a model computed without the engine: the reference the engine must match. */
    private static int[] greedy(Model m, int[] prompt, int max) {
        try (Sequence s = m.newSequence(128)) {
            float[] logits = s.forward(prompt);
            int[] out = new int[max];
            int n = 0;
            while (n < max) {
                int t = Sampler.argmax(logits);
                if (m.tokenizer().isEndOfGeneration(t)) break;
                out[n++] = t;
                if (n < max) logits = s.forward(new int[] {t});
            }
            return Arrays.copyOf(out, n);
        }
    }

    private static double flops(ModelConfig c, int from, int n) {
        double sum = 0;
        for (int p = from; p < from + n; p++) sum += c.flopsPerToken(p);
        return sum;
    }

    @Test
    void forcedTierIsGreedyAndCountsPrefillAndDecodeFlops() throws Exception {
        try (Ladder l = Ladder.open(TestLadders.ladder(dir, "", ""));
             LadderEngine e = new LadderEngine(l)) {
            Tier m = l.tier("m");
            int[] prompt = m.model().tokenizer().encode(PROMPT, true, false);
            Result r = e.runTier("m", PROMPT);
            int[] expected = greedy(m.model(), prompt, 12);
            assertThat(expected).isNotEmpty();
            assertThat(r.tokens()).containsExactly(expected);
            assertThat(r.text().trim()).isEqualTo(m.model().tokenizer().decode(expected, false).trim());
            assertThat(r.tier()).isEqualTo("m");
            assertThat(r.decision().source()).isEqualTo("forced");
            assertThat(r.hops()).hasSize(1);
            Hop h = r.hops().getFirst();
            assertThat(h.tier()).isEqualTo("m");
            assertThat(h.tokensGenerated()).isEqualTo(expected.length);
            assertThat(h.reason()).isIn("eos", "max_tokens");
            // Prefill of the prompt, then one decode step per generated token except the last one
            // (when the limit stops generation, the last token is never fed back).
            int decoded = h.reason().equals("max_tokens") ? expected.length - 1 : expected.length;
            double byHand = flops(m.model().config(), 0, prompt.length) + flops(m.model().config(), prompt.length, decoded);
            assertThat(h.flops()).isCloseTo(byHand, within(byHand * 1e-12));
            assertThat(r.flops()).isEqualTo(h.flops());   // forced: no gatekeeper
            assertThat(r.logprobs()).hasSize(expected.length);
            for (float lp : r.logprobs()) assertThat(lp).isLessThanOrEqualTo(0f);
        }
    }

    @Test
    void routedRunAddsTheGatekeeperPass() throws Exception {
        try (Ladder l = Ladder.open(TestLadders.ladder(dir, "", ""));
             LadderEngine e = new LadderEngine(l)) {
            Result r = e.run(PROMPT);
            Decision d = r.decision();
            assertThat(d.source()).isEqualTo("zero-shot");
            assertThat(r.tier()).isEqualTo(d.choice());
            int gkTokens = l.gatekeeperModel().tokenizer().encode(PROMPT, true, false).length;
            assertThat(d.gatekeeperFlops()).isCloseTo(flops(l.gatekeeperModel().config(), 0, gkTokens), within(1.0));
            assertThat(r.flops()).isCloseTo(d.gatekeeperFlops() + r.generationFlops(), within(1e-6 * r.flops()));
            // Same tier forced gives the same answer: routing does not change generation.
            assertThat(e.runTier(d.choice(), PROMPT).tokens()).containsExactly(r.tokens());
        }
    }

    @Test
    void ensembleOfIdenticalModelsEqualsTheSingleModel() throws Exception {
        TestLadders.threeTiers(dir);
        Path ladder = TestLadders.write(dir.resolve("ladder.yaml"), """
                max_answer_tokens: 10
                tiers:
                  - {name: a, model: tier-m.gguf}
                  - {name: b, model: tier-m.gguf}
                ensemble: {tiers: [a, b], weights: [0.3, 0.7]}
                """);
        try (Ladder l = Ladder.open(ladder); LadderEngine e = new LadderEngine(l)) {
            Result single = e.runTier("a", PROMPT);
            assertThat(single.tokens()).hasSizeGreaterThan(1);
            Result ens = e.runEnsemble(PROMPT);
            assertThat(ens.tokens()).containsExactly(single.tokens());
            assertThat(ens.text()).isEqualTo(single.text());
            assertThat(ens.tier()).isEqualTo("ensemble");
            assertThat(ens.tier()).isEqualTo("ensemble");
            for (int i = 0; i < ens.logprobs().length; i++) assertThat(ens.logprobs()[i]).isCloseTo(single.logprobs()[i], within(1e-4f));
            // Both members pay for every position.
            assertThat(ens.flops()).isCloseTo(2 * single.flops(), within(1e-9 * ens.flops()));
        }
    }

    @Test
    void ensembleWeightsMatter() throws Exception {
        try (Ladder l = Ladder.open(TestLadders.ladder(dir, "", "ensemble: {tiers: [s, l], weights: [0.25, 0.75]}"));
             LadderEngine e = new LadderEngine(l)) {
            int[] prompt = l.tier("s").model().tokenizer().encode(PROMPT, true, false);
            float[] ls, ll;
            try (Sequence a = l.tier("s").model().newSequence(64); Sequence b = l.tier("l").model().newSequence(64)) {
                ls = a.forward(prompt);
                ll = b.forward(prompt);
            }
            // Hand computation of the first step: 0.25 log p_s + 0.75 log p_l, renormalised.
            int v = ls.length;
            double[] combined = new double[v];
            for (int i = 0; i < v; i++) combined[i] = 0.25 * Sampler.logSoftmaxAt(ls, i) + 0.75 * Sampler.logSoftmaxAt(ll, i);
            int best = 0;
            for (int i = 1; i < v; i++) if (combined[i] > combined[best]) best = i;
            double lse = Double.NEGATIVE_INFINITY;
            for (double c : combined) lse = Math.max(lse, c);
            double z = 0;
            for (double c : combined) z += Math.exp(c - lse);
            double expectedLp = combined[best] - lse - Math.log(z);

            float[] engine = dev.gearbox.sample.LogitMath.combineLogProbs(new float[][] {ls, ll}, new double[] {0.25, 0.75});
            for (int i = 0; i < v; i++) assertThat((double) engine[i]).isCloseTo(combined[i], within(1e-4));

            Result r = e.runEnsemble(PROMPT);
            assertThat(r.tokens()[0]).isEqualTo(best);
            assertThat((double) r.logprobs()[0]).isCloseTo(expectedLp, within(1e-4));

            // Weights that favour one member reproduce that member's first choice.
            float[] onlyL = dev.gearbox.sample.LogitMath.combineLogProbs(new float[][] {ls, ll}, new double[] {0, 1});
            assertThat(Sampler.argmax(onlyL)).isEqualTo(Sampler.argmax(ll));
            float[] onlyS = dev.gearbox.sample.LogitMath.combineLogProbs(new float[][] {ls, ll}, new double[] {1, 0});
            assertThat(Sampler.argmax(onlyS)).isEqualTo(Sampler.argmax(ls));
        }
    }

    @Test
    void ensembleNeedsAnEnabledEnsemble() throws Exception {
        try (Ladder l = Ladder.open(TestLadders.ladder(dir, "", "")); LadderEngine e = new LadderEngine(l)) {
            assertThatThrownBy(() -> e.runEnsemble(PROMPT)).hasMessageContaining("no enabled ensemble");
        }
    }

    @Test
    void escalationTriggersAboveAnyReachableConfidenceAndKeepsThePartialAnswer() throws Exception {
        // min_mean_logprob 0: no real token has probability 1, so every watched tier hands over after `window` tokens.
        String esc = ", escalate: {window: 3, min_mean_logprob: 0.0}";
        Path ladder = TestLadders.ladder(dir, esc, "");
        TestLadders.write(ladder, java.nio.file.Files.readString(ladder).replace("context: 128}\n  - {name: l",
                "context: 128, escalate: {window: 2, min_mean_logprob: 0.0}}\n  - {name: l"));
        try (Ladder l = Ladder.open(ladder); LadderEngine e = new LadderEngine(l)) {
            Result r = e.execute(PROMPT, Decision.forced(l.tierNames(), "s"), LadderEngine.Options.defaults(l));
            assertThat(r.hops()).extracting(Hop::tier).containsExactly("s", "m", "l");
            Hop s = r.hops().get(0), m = r.hops().get(1), top = r.hops().get(2);
            assertThat(s.escalated()).isTrue();
            assertThat(s.reason()).startsWith("escalate: mean logprob").contains("over the last 3 tokens");
            assertThat(s.tokensGenerated()).isEqualTo(3);
            assertThat(m.startTokens()).isEqualTo(3);              // m continued s's partial answer
            assertThat(m.tokensGenerated()).isEqualTo(2);
            assertThat(top.startTokens()).isEqualTo(5);
            assertThat(top.escalated()).isFalse();                 // the largest tier never escalates
            assertThat(r.tier()).isEqualTo("l");
            assertThat(r.escalated()).isTrue();
            assertThat(r.tokens()).hasSize(5 + top.tokensGenerated());
            int[] sAnswer = e.runTier("s", PROMPT).tokens();
            assertThat(Arrays.copyOf(r.tokens(), 3)).containsExactly(Arrays.copyOf(sAnswer, 3));
            // l's turn is a greedy continuation of prompt + the 5 kept tokens.
            int[] prompt = l.tier("l").model().tokenizer().encode(PROMPT, true, false);
            int[] prefix = Arrays.copyOf(prompt, prompt.length + 5);
            System.arraycopy(r.tokens(), 0, prefix, prompt.length, 5);
            int[] cont = greedy(l.tier("l").model(), prefix, 12 - 5);
            assertThat(Arrays.copyOfRange(r.tokens(), 5, r.tokens().length)).containsExactly(cont);
            // FLOPs are additive over hops, and each hop pays its own prefill of prompt + kept tokens.
            double sum = 0;
            for (Hop h : r.hops()) sum += h.flops();
            assertThat(r.flops()).isCloseTo(sum, within(1e-9 * sum));
            assertThat(m.flops()).isCloseTo(flops(l.tier("m").model().config(), 0, prompt.length + 3 + 1), within(1.0));

            // With escalation switched off the first tier answers alone.
            Result off = e.execute(PROMPT, Decision.forced(l.tierNames(), "s"), LadderEngine.Options.defaults(l).withEscalate(false));
            assertThat(off.hops()).extracting(Hop::tier).containsExactly("s");
            assertThat(off.tokens()).containsExactly(sAnswer);
        }
    }

    @Test
    void escalationNeverTriggersBelowAnyReachableConfidence() throws Exception {
        try (Ladder l = Ladder.open(TestLadders.ladder(dir, ", escalate: {window: 2, min_mean_logprob: -1000}", ""));
             LadderEngine e = new LadderEngine(l)) {
            Result r = e.execute(PROMPT, Decision.forced(l.tierNames(), "s"), LadderEngine.Options.defaults(l));
            assertThat(r.hops()).extracting(Hop::tier).containsExactly("s");
            assertThat(r.escalated()).isFalse();
            assertThat(r.tokens()).containsExactly(e.runTier("s", PROMPT).tokens());
        }
    }

    @Test
    void escalationRestartsWhenToldNotToKeepThePartialAnswer() throws Exception {
        try (Ladder l = Ladder.open(TestLadders.ladder(dir, ", escalate: {window: 2, min_mean_logprob: 0, keep_partial: false}", ""));
             LadderEngine e = new LadderEngine(l)) {
            Result r = e.execute(PROMPT, Decision.forced(l.tierNames(), "s"), LadderEngine.Options.defaults(l));
            assertThat(r.hops()).extracting(Hop::tier).containsExactly("s", "m");
            assertThat(r.hops().get(1).startTokens()).isZero();
            assertThat(r.tokens()).containsExactly(e.runTier("m", PROMPT).tokens());
        }
    }

    @Test
    void promptTooLongForATierIsAClearError() throws Exception {
        try (Ladder l = Ladder.open(TestLadders.ladder(dir, "", "")); LadderEngine e = new LadderEngine(l)) {
            String longPrompt = "x".repeat(400);
            assertThatThrownBy(() -> e.runTier("s", longPrompt)).hasMessageContaining("too long for tier 's'").hasMessageContaining("context 128");
        }
    }

    @Test
    void engineIsUsableFromSeveralThreads() throws Exception {
        try (Ladder l = Ladder.open(TestLadders.ladder(dir, "", "")); LadderEngine e = new LadderEngine(l, Router.zeroShot(l))) {
            int[] expected = e.runTier("l", PROMPT).tokens();
            var pool = java.util.concurrent.Executors.newFixedThreadPool(3);
            try {
                var futures = new java.util.ArrayList<java.util.concurrent.Future<int[]>>();
                for (int i = 0; i < 6; i++) futures.add(pool.submit(() -> e.runTier("l", PROMPT).tokens()));
                for (var f : futures) assertThat(f.get()).containsExactly(expected);
            } finally {
                pool.shutdown();
            }
            e.router().close();
        }
    }
}
