package dev.gearbox.calibrate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gearbox.ladder.Ladder;
import dev.gearbox.schedule.LadderEngine;
import dev.gearbox.ladder.TestLadders;
import dev.gearbox.router.Router;
import dev.gearbox.router.RouterHead;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/**
 * Calibrate and demo on a ladder of three random tiny tiers. Their answers are noise, so the data
 * is built from them: a third of the rows take the small tier's answer as reference (only tiers
 * that say the same are right), a third the large tier's, a third have no reference (graded by
 * agreement with the largest). That makes every accuracy computable here, independently.
 */
class CalibrateEndToEndTest {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int ROWS = 24;

    @TempDir static Path dir;
    static Path ladder, data, cache;
    /** Per row: the answers of s, m, l, and the reference (null = none). */
    static List<String[]> truth = new ArrayList<>();

    @BeforeAll
    static void buildLadderAndData() throws Exception {
        ladder = TestLadders.ladder(dir, "", "");
        cache = dir.resolve("cache.jsonl");
        StringBuilder jsonl = new StringBuilder();
        try (Ladder l = Ladder.open(ladder); LadderEngine e = new LadderEngine(l)) {
            for (int i = 0; i < ROWS; i++) {
                String prompt = "q" + i + ": " + "abcdefgh".substring(0, 1 + i % 8) + " " + (i * 37 % 101);
                String s = e.runTier("s", prompt).text().trim(), m = e.runTier("m", prompt).text().trim(), big = e.runTier("l", prompt).text().trim();
                String ref = switch (i % 3) {
                    case 0 -> s.isBlank() ? null : s;
                    case 1 -> big.isBlank() ? null : big;
                    default -> null;
                };
                truth.add(new String[] {s, m, big, ref});
                var row = JSON.createObjectNode().put("id", "r" + i).put("task", i % 2 == 0 ? "even" : "odd").put("level", i % 3).put("prompt", prompt);
                if (ref != null) row.put("reference", ref).put("grade", "exact");
                jsonl.append(JSON.writeValueAsString(row)).append('\n');
            }
        }
        data = TestLadders.write(dir.resolve("data.jsonl"), jsonl.toString());
    }

    /** Whether tier t's answer to row i is right, computed from the truth table. */
    static boolean right(int i, int t) {
        String[] r = truth.get(i);
        String ref = r[3];
        return ref != null ? r[t].strip().equals(ref.strip()) : Grader.agrees(r[t], r[2]);
    }

    static CalibrationResult calibrate(Calibrator.Target target, StringWriter log) throws Exception {
        try (AnswerCache c = AnswerCache.open(cache)) {
            return Calibrator.run(new Calibrator.Options(ladder, data, target, 0.5, 3, c, new PrintWriter(log)));
        }
    }

    @Test
    void calibrateWritesRouterJsonAndAReportThatAgreeWithTheData() throws Exception {
        StringWriter log = new StringWriter();
        CalibrationResult r = calibrate(Calibrator.Target.quality(0.95), log);
        assertThat(log.toString()).contains("calibrate: tier s: " + ROWS + "/" + ROWS + " prompts").contains("wrote");

        assertThat(r.trainRows()).isEqualTo(12);
        assertThat(r.validationRows()).isEqualTo(6);
        assertThat(r.heldOutRows()).isEqualTo(6);
        Splits splits = Splits.of(ROWS, 0.5, 3);
        for (int t = 0; t < 3; t++) {
            int right = 0;
            for (int i : splits.heldOut()) if (right(i, t)) right++;
            assertThat(r.singles().get(t).quality()).as("tier %d held-out accuracy", t).isCloseTo(right / 6.0, within(1e-12));
        }
        assertThat(r.singles().getLast().cost()).isEqualTo(1.0);
        assertThat(r.singles().getFirst().cost()).isLessThan(r.singles().get(1).cost());
        assertThat(r.routedShares()[0] + r.routedShares()[1] + r.routedShares()[2]).isCloseTo(1.0, within(1e-9));

        // router.json: loadable, matching the ladder, with the chosen thresholds.
        RouterHead head = RouterHead.load(dir.resolve("router.json"));
        assertThat(head.thresholds()).isEqualTo(r.thresholds());
        assertThat(head.training().examples()).isEqualTo(12);
        try (Ladder l = Ladder.open(ladder); Router router = Router.forLadder(l)) {
            assertThat(router.source()).isEqualTo("router.json");
        }

        String md = Files.readString(dir.resolve("calibration-report.md"));
        assertThat(md).contains("# Calibration report: ladder `test`", "| tier | parameters |", "| s |", "| m |", "| l |",
                "APGR", "CPT(50%)", "CPT(80%)", "random routing's quality at the same compute", "calibration-report.svg",
                "| even / 0 |");
        String svg = Files.readString(dir.resolve("calibration-report.svg"));
        assertThat(svg).startsWith("<svg").contains("router (threshold sweep)", "random routing", "tier s", "tier m", "tier l", "chosen setting").endsWith("</svg>\n");
        assertThat(svg).doesNotContain("NaN");
    }

    @Test
    void reRunsComeFromTheCacheWithTheSameResult() throws Exception {
        CalibrationResult first = calibrate(Calibrator.Target.budget(0.6), new StringWriter());
        StringWriter log = new StringWriter();
        CalibrationResult again = calibrate(Calibrator.Target.budget(0.6), log);
        assertThat(log.toString()).contains("calibrate: tier l: " + ROWS + "/" + ROWS + " prompts (" + ROWS + " from cache");
        assertThat(again.routed()).isEqualTo(first.routed());
        assertThat(again.thresholds()).isEqualTo(first.thresholds());
        if (first.metTarget()) assertThat(first.validationPoint().cost()).isLessThanOrEqualTo(0.6);
    }

    @Test
    void demoCountsEverythingAndMatchesTheBaselines() throws Exception {
        calibrate(Calibrator.Target.quality(0.95), new StringWriter());
        // All prompts to the largest tier: routed accuracy is the largest's, compute is 1 + the gatekeeper's part.
        RouterHead head = RouterHead.load(dir.resolve("router.json"));
        Path allLarge = dir.resolve("all-large");
        Files.createDirectories(allLarge);
        Path l2 = copyLadder(allLarge);
        head.withThresholds(Map.of()).save(allLarge.resolve("router.json"));
        DemoResult r = demo(l2);
        int rightL = 0, rightS = 0;
        for (int i = 0; i < ROWS; i++) {
            if (right(i, 2)) rightL++;
            if (right(i, 0)) rightS++;
        }
        assertThat(r.largestAccuracy()).isCloseTo(rightL / (double) ROWS, within(1e-12));
        assertThat(r.routedAccuracy()).isEqualTo(r.largestAccuracy());
        assertThat(r.tiers()).extracting(DemoResult.TierLine::name).containsExactly("s", "m", "l");
        assertThat(r.tiers().getLast().share()).isEqualTo(1.0);
        assertThat(r.gatekeeperShare()).isGreaterThan(0);
        assertThat(r.computeShare()).isCloseTo(1 + r.gatekeeperShare(), within(1e-9));
        assertThat(r.gatekeeperP50Ms()).isGreaterThan(0);
        assertThat(r.computeGoalMet()).isFalse();

        // All prompts to the smallest tier: its accuracy at its compute plus the gatekeeper's.
        head.withThresholds(Map.of("s", 0.0)).save(allLarge.resolve("router.json"));
        DemoResult s = demo(l2);
        assertThat(s.routedAccuracy()).isCloseTo(rightS / (double) ROWS, within(1e-12));
        assertThat(s.tiers().getFirst().share()).isEqualTo(1.0);
        assertThat(s.tiers().getFirst().accuracy()).isEqualTo(s.routedAccuracy());
        assertThat(s.tiers().get(1).accuracy()).isNaN();
        assertThat(s.computeShare()).isLessThan(r.computeShare());

        JsonNode json = JSON.readTree(s.toJson());
        for (String key : List.of("tiers", "routed_accuracy", "largest_accuracy", "random_accuracy_same_cost", "compute_share", "gatekeeper_p50_ms", "goal")) {
            assertThat(json.has(key)).as(key).isTrue();
        }
        assertThat(json.get("tiers").get(0).get("name").asText()).isEqualTo("s");
        assertThat(json.get("tiers").get(1).get("accuracy").isNull()).isTrue();
        assertThat(json.get("goal").get("met").asBoolean()).isEqualTo(s.goalMet());
    }

    @Test
    void demoRunsEscalationsAndEnsemblesThroughTheEngineAndChargesThem() throws Exception {
        Path esc = dir.resolve("escalating");
        Files.createDirectories(esc);
        TestLadders.threeTiers(esc);
        Path l = TestLadders.write(esc.resolve("ladder.yaml"), """
                name: esc
                max_answer_tokens: 12
                tiers:
                  - {name: s, model: tier-s.gguf, context: 128, escalate: {window: 2, min_mean_logprob: 0.0}}
                  - {name: m, model: tier-m.gguf, context: 128}
                  - {name: l, model: tier-l.gguf, context: 128}
                ensemble: {enabled: true, tiers: [m, l]}
                """);
        // A head routing everything to s, which always escalates (no log-probability reaches 0).
        if (!Files.exists(dir.resolve("router.json"))) calibrate(Calibrator.Target.quality(0.95), new StringWriter());
        RouterHead head = RouterHead.load(dir.resolve("router.json"));
        head.withThresholds(Map.of("s", 0.0)).save(esc.resolve("router.json"));
        DemoResult r = demo(l);
        assertThat(r.escalations()).isEqualTo(ROWS);
        assertThat(r.tiers().getFirst().share()).isEqualTo(1.0);
        assertThat(r.tiers().get(1).share()).isZero(); // shares are by the router's decision, escalations counted apart
        // Every prompt paid for the gatekeeper, s's partial answer and m's continuation: more than s alone and the gatekeeper.
        assertThat(r.computeShare()).isGreaterThan(r.tiers().getFirst().computeAlone() + r.gatekeeperShare());
        assertThat(r.tiers().getLast().computeAlone()).isEqualTo(1.0);

        // Everything to the ensemble: no tier clears its threshold and all are under the ensemble's.
        head.withThresholds(Map.of("ensemble", 1.0)).save(esc.resolve("router.json"));
        DemoResult e = demo(l);
        assertThat(e.tiers()).extracting(DemoResult.TierLine::name).containsExactly("s", "m", "l", "ensemble");
        assertThat(e.tiers().getLast().share()).isEqualTo(1.0);
        assertThat(e.computeShare()).isGreaterThan(1.0); // m and l both run, plus the gatekeeper
    }

    @Test
    void calibrationChargesEscalationsOfWatchedTiers() throws Exception {
        calibrate(Calibrator.Target.quality(0.95), new StringWriter()); // the single-tier answers are in the cache now
        Path esc = dir.resolve("esc-calib");
        Files.createDirectories(esc);
        TestLadders.threeTiers(esc);
        Path l = TestLadders.write(esc.resolve("ladder.yaml"), """
                name: esc
                max_answer_tokens: 12
                tiers:
                  - {name: s, model: tier-s.gguf, context: 128, escalate: {window: 2, min_mean_logprob: 0.0}}
                  - {name: m, model: tier-m.gguf, context: 128}
                  - {name: l, model: tier-l.gguf, context: 128}
                ensemble: {enabled: true, tiers: [m, l], weights: [0.4, 0.6]}
                """);
        StringWriter log = new StringWriter();
        CalibrationResult r;
        try (AnswerCache c = AnswerCache.open(cache)) {
            r = Calibrator.run(new Calibrator.Options(l, data, Calibrator.Target.quality(0.95), 0.5, 3, c, new PrintWriter(log)));
        }
        assertThat(log.toString()).contains("calibrate: tier s with escalation: " + ROWS + "/" + ROWS);
        assertThat(r.escalations()).isEqualTo(ROWS); // s never reaches a mean log-probability of 0
        // Sending everything to s now pays for s's partial answers and m's continuations.
        CurvePoint allSmall = r.sweep().getFirst().point();
        assertThat(allSmall.cost()).isGreaterThan(r.singles().getFirst().cost());
        assertThat(Files.readString(esc.resolve("calibration-report.md"))).contains("Escalation: prompts routed to a watched tier", "| ensemble | |");
        // The ensemble ran on every prompt too: it costs more than the largest tier alone (m and l both run).
        assertThat(log.toString()).contains("calibrate: ensemble m+l: " + ROWS + "/" + ROWS);
        assertThat(r.ensemble().cost()).isGreaterThan(1.0);
        assertThat(r.routedShares()).hasSize(4);
        assertThat(r.routedShares()[0] + r.routedShares()[1] + r.routedShares()[2] + r.routedShares()[3]).isCloseTo(1.0, within(1e-9));
        RouterHead head = RouterHead.load(esc.resolve("router.json"));
        assertThat(head.thresholds()).isEqualTo(r.thresholds());
        // The single-tier answers came from the shared cache (same files), the escalation runs did not.
        assertThat(log.toString()).contains("calibrate: tier s: " + ROWS + "/" + ROWS + " prompts (" + ROWS + " from cache");
    }

    @Test
    void theDefaultWorkloadIsDataHeldoutBesideTheLadder() throws Exception {
        Path d = dir.resolve("withdata");
        Files.createDirectories(d.resolve("data"));
        Path l = copyLadder(d);
        Files.copy(data, d.resolve("data").resolve("heldout.jsonl"));
        var run = dev.gearbox.cli.CliRunner.run("demo", "--ladder", l.toString(), "--json", "--cache", cache.toString());
        assertThat(run.exitCode()).as(run.err()).isZero();
        JsonNode json = JSON.readTree(run.out());
        assertThat(json.get("prompts").asInt()).isEqualTo(ROWS);
        assertThat(json.get("router").asText()).isEqualTo("zero-shot");
        assertThat(run.err()).contains("demo: routed " + ROWS + "/" + ROWS);
    }

    private static Path copyLadder(Path to) throws Exception {
        TestLadders.threeTiers(to);
        return TestLadders.write(to.resolve("ladder.yaml"), Files.readString(ladder));
    }

    private static DemoResult demo(Path ladderFile) throws Exception {
        try (AnswerCache c = AnswerCache.open(cache)) {
            return Demo.run(new Demo.Options(ladderFile, data, c, null));
        }
    }

    @Test
    void cacheKeysOnTheTierFileAndTokenLimit() throws Exception {
        Path f = dir.resolve("c2.jsonl");
        Path a = dir.resolve("tier-s.gguf"), b = dir.resolve("tier-m.gguf");
        try (AnswerCache c = AnswerCache.open(f)) {
            c.put(a, 12, "p", new AnswerCache.Entry("x", 5, 2, 1));
        }
        Files.writeString(f, "{torn line\n", java.nio.file.StandardOpenOption.APPEND);
        try (AnswerCache c = AnswerCache.open(f)) {
            assertThat(c.get(a, 12, "p")).isEqualTo(new AnswerCache.Entry("x", 5, 2, 1));
            assertThat(c.get(b, 12, "p")).isNull();
            assertThat(c.get(a, 13, "p")).isNull();
            assertThat(c.get(a, 12, "p ")).isNull();
            assertThat(c.hits()).isEqualTo(1);
            assertThat(c.misses()).isEqualTo(3);
        }
        Set<String> seen = new HashSet<>(Files.readAllLines(f));
        assertThat(seen).hasSize(2);
    }
}
