package dev.gearbox.schedule;

import dev.gearbox.calibrate.Dataset;
import dev.gearbox.calibrate.TaskRow;
import dev.gearbox.ladder.Ladder;
import dev.gearbox.ladder.Tier;
import dev.gearbox.sample.SamplingParams;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * The default ladder's gatekeeper is its smallest tier's own model: a prompt routed there starts
 * from the gatekeeper's prefill (its KV cache and last logits) instead of reading the prompt again.
 * Checked against the sequential oracle: the same answers, and the whole request costs what the
 * tier alone costs (the routing pass is the tier's prefill).
 */
class GatekeeperHandoffTest {
    @Test
    void promptsRoutedToTheGatekeepersTierReuseItsPrefill() throws Exception {
        Path file = Path.of("models", "ladder.yaml"), data = Path.of("models", "data", "heldout.jsonl");
        Assumptions.assumeTrue(Files.isRegularFile(file) && Files.isRegularFile(data), "needs the committed default ladder in models/");
        List<TaskRow> rows = Dataset.read(data).subList(0, 120);
        // The router without experts: a prompt answered with an SVF expert cannot reuse the base gatekeeper's KV (below).
        try (Ladder ladder = Ladder.open(file); dev.gearbox.router.Router router = dev.gearbox.router.Router.forLadder(ladder, false);
             Scheduler s = Scheduler.open(ladder, router, Scheduler.Options.defaults()); SequentialLadder oracle = new SequentialLadder(ladder)) {
            Tier small = ladder.tier(0);
            assertThat(ladder.gatekeeperModel()).isSameAs(small.model());
            SamplingParams greedy = SamplingParams.greedy().toBuilder().maxTokens(ladder.maxAnswerTokens()).build();
            List<RequestHandle> handles = new ArrayList<>();
            for (TaskRow r : rows) handles.add(s.submit(Request.of(Request.AUTO, r.text(), greedy)));   // all at once: batched routing
            int onSmall = 0;
            double routedFlops = 0, aloneFlops = 0;
            for (int i = 0; i < rows.size(); i++) {
                Result got = handles.get(i).future().join();
                var want = oracle.execute(rows.get(i).text(), got.decision(), new SequentialLadder.Options(null, ladder.maxAnswerTokens(), true));
                assertThat(got.text().trim()).as(rows.get(i).text()).isEqualTo(want.text());
                assertThat(got.tier()).isEqualTo(want.finalTier());
                if (got.decision().tierIndex() != 0 || got.escalated()) continue;
                onSmall++;
                int n = small.model().tokenizer().encode(rows.get(i).text(), true, false).length;
                int decoded = Math.max(0, got.hops().getFirst().reason().equals("max_tokens") ? got.tokens().length - 1 : got.tokens().length);
                double decode = small.flops(n, decoded);
                // The hop fed only decode tokens: the gatekeeper's pass was its prefill.
                assertThat(got.hops().getFirst().flops()).isCloseTo(decode, within(1e-6 * Math.max(1, decode)));
                double alone = small.flops(0, n) + decode;
                assertThat(got.flops()).as("routed request vs the tier alone").isCloseTo(alone, within(1e-9 * alone));
                routedFlops += got.flops();
                aloneFlops += alone;
            }
            assertThat(onSmall).as("prompts the router sent to the smallest tier").isGreaterThan(20);
            assertThat(routedFlops / aloneFlops - 1).as("routing's extra compute on the smallest tier's prompts").isLessThan(0.05);
        }
    }

    @Test
    void promptsAnsweredWithAnExpertOnTheGatekeepersTierPayTheirOwnPrefill() throws Exception {
        Path file = Path.of("models", "ladder.yaml"), data = Path.of("models", "data", "heldout.jsonl");
        Assumptions.assumeTrue(Files.isRegularFile(file) && Files.isRegularFile(data), "needs the committed default ladder in models/");
        List<TaskRow> rows = Dataset.read(data).subList(0, 60);
        try (Ladder ladder = Ladder.open(file); Scheduler s = Scheduler.open(ladder)) {
            Assumptions.assumeTrue(dev.gearbox.router.Router.hasExperts(ladder), "the default ladder routes with experts");
            Tier small = ladder.tier(0);
            SamplingParams greedy = SamplingParams.greedy().toBuilder().maxTokens(ladder.maxAnswerTokens()).build();
            int checked = 0;
            for (TaskRow r : rows) {
                Result got = s.submit(Request.of(Request.AUTO, r.text(), greedy)).future().join();
                if (got.decision().tierIndex() != 0 || got.escalated() || got.decision().expert() == null) continue;
                checked++;
                int n = small.model().tokenizer().encode(r.text(), true, false).length;
                int decoded = Math.max(0, got.hops().getFirst().reason().equals("max_tokens") ? got.tokens().length - 1 : got.tokens().length);
                // The gatekeeper read the prompt with the base weights; the expert's keys and values differ, so the hop prefills.
                assertThat(got.hops().getFirst().flops()).as(r.text()).isCloseTo(small.flops(0, n) + small.flops(n, decoded), within(1e-6 * small.flops(0, n + decoded)));
                assertThat(got.expert()).isEqualTo(got.decision().expert());
            }
            assertThat(checked).as("prompts answered on s with an expert").isGreaterThan(10);
        }
    }
}
