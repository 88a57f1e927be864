package dev.gearbox.calibrate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gearbox.router.ExpertRouting;
import dev.gearbox.svf.SvfFactors;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * Calibration and the demo with SVF experts on the default tiers. With identity experts (z = 1)
 * every (tier, expert) answers as the tier does, so routing with experts must reproduce routing
 * without them exactly: a check of the whole second pass (task head, expert answers through the
 * engine, expert-mode router head, thresholds, demo) against the first, computed independently.
 */
class CalibrateWithExpertsTest {
    static final List<String> TASKS = List.of("add", "mul", "rev", "sort");
    @TempDir static Path dir;
    static Path ladder, calibration, heldOut;

    @BeforeAll
    static void setUp() throws Exception {
        assumeTrue(ExpertLadders.available(), "needs models/tier-*.gguf");
        Map<String, Map<String, Path>> experts = new LinkedHashMap<>();
        for (String tier : new String[] {"s", "m"}) {
            Map<String, Path> byTask = new LinkedHashMap<>();
            try (SvfFactors f = ExpertLadders.factors(dir, tier)) {
                for (String task : TASKS) {
                    Path p = dir.resolve(tier + "-" + task + ".gguf");
                    ExpertLadders.expert(f, tier, task, i -> 1f).write(p);
                    byTask.put(task, p);
                }
            }
            experts.put(tier, byTask);
        }
        ladder = ExpertLadders.ladder(dir, experts, null);
        calibration = head(ExpertLadders.MODELS.resolve("data/calibration.jsonl"), dir.resolve("calibration.jsonl"), 160);
        heldOut = head(ExpertLadders.MODELS.resolve("data/heldout.jsonl"), dir.resolve("heldout.jsonl"), 80);
    }

    static Path head(Path from, Path to, int n) throws Exception {
        Files.write(to, Files.readAllLines(from).subList(0, n));
        return to;
    }

    @Test
    void identityExpertsReproduceRoutingWithoutExperts() throws Exception {
        StringWriter log = new StringWriter();
        CalibrationResult r;
        try (AnswerCache c = AnswerCache.open(dir.resolve("cache.jsonl"))) {
            r = Calibrator.run(new Calibrator.Options(ladder, calibration, Calibrator.Target.quality(0.95), 0.5, 3, c, new PrintWriter(log)));
        }
        assertNotNull(r.experts(), log.toString());
        ExpertCalibration.Summary e = r.experts();
        assertEquals(TASKS, e.tasks());
        assertTrue(e.taskAccuracy() >= 0.95, "the task is on the prompt's surface: " + e.taskAccuracy());
        assertEquals(r.routed().quality(), e.routed().quality(), 1e-12, "identity experts answer as the tiers do");
        assertEquals(r.routed().cost(), e.routed().cost(), 1e-9);
        assertEquals(r.thresholds(), e.thresholds());
        assertTrue(Files.exists(dir.resolve(ExpertRouting.FILE)));
        assertTrue(Files.readString(r.reportMarkdown()).contains("Routing with SVF experts"));

        DemoResult d;
        try (AnswerCache c = AnswerCache.open(dir.resolve("cache.jsonl"))) {
            d = Demo.run(new Demo.Options(ladder, heldOut, c, null));
        }
        assertNotNull(d.experts());
        assertEquals(d.routedAccuracy(), d.experts().routedAccuracy(), 1e-12);
        assertEquals(d.computeShare(), d.experts().computeShare(), 1e-9, "exact-form experts cost what the base tiers do");
        double routedToExpertTiers = d.experts().tiers().stream().filter(t -> t.name().equals("s") || t.name().equals("m")).mapToDouble(DemoResult.TierLine::share).sum();
        assertEquals(routedToExpertTiers, d.experts().expertShare(), 1e-12, "every prompt sent to s or m runs with its task's expert");
        JsonNode json = new ObjectMapper().readTree(d.toJson());
        assertTrue(json.path("experts").path("routed_accuracy").isNumber());
        assertTrue(json.path("experts").path("tier_shares").has("l"));
        assertTrue(json.path("experts").path("goal").has("met"));
    }

    @Test
    void svfEvalTabulatesBaseExpertAndMixturePerTierAndTask() throws Exception {
        ExpertEval.Result r;
        try (AnswerCache c = AnswerCache.open(dir.resolve("cache.jsonl"))) {
            r = ExpertEval.run(new ExpertEval.Options(ladder, heldOut, calibration, 4, c, null));
        }
        assertEquals(List.of("s", "m"), List.copyOf(r.tiers().keySet()));
        for (var tier : r.tiers().values()) {
            assertEquals(TASKS, List.copyOf(tier.keySet()));
            for (var cell : tier.values()) {
                assertTrue(cell.prompts() > 0);
                assertEquals(cell.base(), cell.expert(), 1e-12, "an identity expert is the base tier");
                // A mixture of identity experts is z = sum(alpha) (all equal), which the rescaling turns back into W.
                assertEquals(cell.base(), cell.mixture(), 1e-12);
            }
        }
        JsonNode json = new ObjectMapper().readTree(r.toJson());
        assertTrue(json.path("tiers").path("m").path("add").path("expert").isNumber());
        assertTrue(json.path("cost").path("gatekeeper_flops_per_prompt").asDouble() > 0);
    }
}
