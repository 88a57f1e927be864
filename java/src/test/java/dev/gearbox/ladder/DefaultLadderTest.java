package dev.gearbox.ladder;

import dev.gearbox.tokenizer.Vocabularies;
import dev.gearbox.schedule.LadderEngine;
import dev.gearbox.schedule.Result;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gearbox.generate.GenerationResult;
import dev.gearbox.generate.Generator;
import dev.gearbox.generate.LogitSource;
import dev.gearbox.model.Sequence;
import dev.gearbox.router.Decision;
import dev.gearbox.router.Features;
import dev.gearbox.router.Router;
import dev.gearbox.sample.SamplingParams;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The committed default ladder ({@code models/ladder.yaml}, trained by scripts/train-ladder.sh):
 * it opens, its tiers answer exactly as plain greedy generation does, and the router reads its
 * prompts. Skips where the models are not committed yet.
 */
class DefaultLadderTest {
    static final Path LADDER = Path.of("models", "ladder.yaml");
    static final ObjectMapper JSON = new ObjectMapper();

    record Row(int level, String prompt, String reference) {}

    static Path ladder() {
        Assumptions.assumeTrue(Files.isRegularFile(LADDER), "needs the committed models/ladder.yaml");
        return LADDER;
    }

    /** {@code perLevel} held-out rows of each level, in file order. */
    static List<Row> heldout(int perLevel) throws IOException {
        Path data = LADDER.resolveSibling("data/heldout.jsonl");
        Assumptions.assumeTrue(Files.isRegularFile(data), "needs models/data/heldout.jsonl");
        List<Row> out = new ArrayList<>();
        int[] seen = new int[64];
        for (String line : Files.readAllLines(data)) {
            if (line.isBlank()) continue;
            JsonNode j = JSON.readTree(line);
            int level = j.path("level").asInt();
            if (level < seen.length && seen[level]++ < perLevel) out.add(new Row(level, j.get("prompt").asText(), j.path("reference").asText()));
        }
        return out;
    }

    @Test
    void opensWithTiersInSizeOrder() throws Exception {
        try (Ladder l = Ladder.open(ladder())) {
            assertThat(l.tiers()).hasSizeGreaterThanOrEqualTo(3);
            for (int i = 1; i < l.tiers().size(); i++) {
                // "each several times the size of the one below"
                assertThat(l.tier(i).parameterCount()).isGreaterThan(2 * l.tier(i - 1).parameterCount());
            }
            for (Tier t : l.tiers()) assertThat(Vocabularies.same(t.model().tokenizer(), l.gatekeeperModel().tokenizer())).isTrue();
            assertThat(l.maxAnswerTokens()).isPositive();
        }
    }

    @Test
    void tiersAnswerAsPlainGreedyGenerationDoes() throws Exception {
        List<Row> rows = heldout(2);
        try (Ladder l = Ladder.open(ladder()); LadderEngine e = new LadderEngine(l, Router.zeroShot(l))) {
            SamplingParams greedy = SamplingParams.greedy().toBuilder().maxTokens(l.maxAnswerTokens()).build();
            int largestRight = 0;
            for (Tier t : l.tiers()) {
                try (Sequence seq = t.model().newSequence(t.context())) {
                    for (Row r : rows) {
                        seq.truncate(0);
                        GenerationResult g = new Generator(t.model().tokenizer()).generate(LogitSource.of(seq),
                                t.model().tokenizer().encode(r.prompt(), true, false), greedy, Generator.TextListener.NONE);
                        Result answer = e.runTier(t.name(), r.prompt());
                        assertThat(answer.text().trim()).as("tier %s on %s", t.name(), r.prompt()).isEqualTo(g.text().trim());
                        if (t == l.largest() && answer.text().trim().equals(r.reference())) largestRight++;
                    }
                }
            }
            // The largest tier is the ladder's quality bar: it answers most of a mixed sample.
            assertThat(largestRight).as("largest tier right on %d of %d held-out rows", largestRight, rows.size())
                    .isGreaterThanOrEqualTo(rows.size() / 2);
            e.router().close();
        }
    }

    @Test
    void routerReadsEveryLevel() throws Exception {
        List<Row> rows = heldout(5);
        try (Ladder l = Ladder.open(ladder()); LadderEngine e = new LadderEngine(l)) {
            for (Row r : rows) {
                Features f = e.router().features(r.prompt());
                for (double v : f.vector()) assertThat(Double.isFinite(v)).isTrue();
                Decision d = e.router().decide(f, e.router().thresholds());
                assertThat(d.choice()).isIn(concat(l.tierNames(), Decision.ENSEMBLE));
                assertThat(d.probabilities()).hasSize(l.tiers().size());
            }
            Result r = e.run(rows.getFirst().prompt());
            assertThat(r.flops()).isGreaterThan(r.decision().gatekeeperFlops());
        }
    }

    @Test
    void zeroShotRuleWorksOutOfTheBox() throws Exception {
        List<Row> rows = heldout(40);
        try (Ladder l = Ladder.open(ladder()); Router zero = Router.zeroShot(l); LadderEngine e = new LadderEngine(l, zero)) {
            int routedRight = 0, largestRight = 0;
            double routedFlops = 0, largestFlops = 0;
            double[] difficulty = new double[7];
            int[] perLevel = new int[7];
            for (Row r : rows) {
                Decision d = zero.route(r.prompt());
                difficulty[r.level()] += dev.gearbox.router.ZeroShotRule.difficulty(d.signals());
                perLevel[r.level()]++;
                Result routed = e.execute(r.prompt(), d, LadderEngine.Options.defaults(l).withEscalate(false));
                Result largest = e.runTier(l.largest().name(), r.prompt());
                routedRight += routed.text().trim().equals(r.reference()) ? 1 : 0;
                largestRight += largest.text().trim().equals(r.reference()) ? 1 : 0;
                routedFlops += routed.flops();
                largestFlops += largest.flops();
            }
            // Harder levels read as harder, and the rule trades a little quality for compute.
            assertThat(difficulty[6] / perLevel[6]).isGreaterThan(difficulty[1] / perLevel[1]);
            assertThat((double) routedRight).as("zero-shot right on %d, largest on %d of %d", routedRight, largestRight, rows.size())
                    .isGreaterThanOrEqualTo(0.9 * largestRight);
            assertThat(routedFlops).isLessThan(0.95 * largestFlops);
        }
    }

    static List<String> concat(List<String> a, String b) {
        List<String> out = new ArrayList<>(a);
        out.add(b);
        return out;
    }
}
