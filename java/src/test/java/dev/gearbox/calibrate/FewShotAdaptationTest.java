package dev.gearbox.calibrate;

import dev.gearbox.ladder.Ladder;
import dev.gearbox.svf.CrossEntropySearch;
import dev.gearbox.svf.SvfExpert;
import dev.gearbox.svf.SvfFactors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Few-shot adaptation on the default ladder's tier m with experts made here. */
class FewShotAdaptationTest {
    @TempDir
    Path dir;

    @Test
    void searchFindsTheMixtureThatKeepsTheTierWorkingAndWritesAServableExpert() throws Exception {
        assumeTrue(ExpertLadders.available(), "needs models/tier-*.gguf");
        Path keep = dir.resolve("m-keep.gguf"), wreck = dir.resolve("m-wreck.gguf");
        try (SvfFactors f = ExpertLadders.factors(dir, "m")) {
            ExpertLadders.expert(f, "m", "keep", i -> 1f).write(keep);
            ExpertLadders.expert(f, "m", "wreck", ExpertLadders::wrecking).write(wreck);
        }
        Map<String, Path> experts = new java.util.LinkedHashMap<>();
        experts.put("keep", keep);
        experts.put("wreck", wreck);
        Path ladderFile = ExpertLadders.ladder(dir, Map.of("m", experts), null);
        // Reversal: tier m gets all of them right without an expert (model card), so the task is easy to score.
        List<TaskRow> rev = Dataset.read(ExpertLadders.MODELS.resolve("data/calibration.jsonl")).stream()
                .filter(r -> "rev".equals(r.extra("task"))).limit(8).toList();
        try (Ladder ladder = Ladder.open(ladderFile)) {
            var m = ladder.tier("m");
            double wrecked = FewShotAdaptation.accuracy(m, m.experts().get("wreck"), rev, 24);
            assertTrue(wrecked < 0.5, "the wrecking expert must break reversal for this test to mean anything: " + wrecked);
            assertEquals(1.0, FewShotAdaptation.accuracy(m, m.experts().get("keep"), rev, 24), "z = 1 is the base tier");

            var search = new CrossEntropySearch(8, 2, 4, 0.3, 0.02, 7);
            FewShotAdaptation.Found found = FewShotAdaptation.adapt(m, "rev2", rev, 24, search);
            assertEquals(1.0, found.score(), found.describe());
            assertEquals(List.of("keep", "wreck"), found.experts());
            assertEquals(1 + 8 * 4, found.evaluations());
            assertTrue(found.describe().contains("keep"), found.describe());

            Path out = dir.resolve("m-rev2.gguf");
            found.expert().write(out);
            SvfExpert back = SvfExpert.read(out, m.experts().get("keep").baseSha256());
            assertEquals("rev2", back.task());
            assertEquals(1.0, FewShotAdaptation.accuracy(m, back, rev, 24), "the written mixture answers as searched");
        }
    }

    @Test
    void refusesExamplesWithoutReferencesAndUnknownExperts() throws Exception {
        assumeTrue(ExpertLadders.available(), "needs models/tier-*.gguf");
        Path keep = dir.resolve("m-keep.gguf");
        try (SvfFactors f = ExpertLadders.factors(dir, "m")) {
            ExpertLadders.expert(f, "m", "keep", i -> 1f).write(keep);
        }
        try (Ladder ladder = Ladder.open(ExpertLadders.ladder(dir, Map.of("m", Map.of("keep", keep)), null))) {
            var m = ladder.tier("m");
            var noRef = List.of(TaskRow.plain("x", "rev:ab=", null, GradeMode.EXACT));
            var e = assertThrows(IllegalArgumentException.class, () -> FewShotAdaptation.adapt(m, "t", noRef, 24, FewShotAdaptation.DEFAULT_SEARCH));
            assertTrue(e.getMessage().contains("no reference"), e.getMessage());
            var rows = List.of(TaskRow.plain("x", "rev:ab=", "ba", GradeMode.EXACT));
            e = assertThrows(IllegalArgumentException.class, () -> FewShotAdaptation.adapt(m, List.of("nope"), "t", rows, 24, FewShotAdaptation.DEFAULT_SEARCH));
            assertTrue(e.getMessage().contains("no expert 'nope'"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> FewShotAdaptation.adapt(ladder.tier("s"), "t", rows, 24, FewShotAdaptation.DEFAULT_SEARCH));
            assertTrue(e.getMessage().contains("no experts"), e.getMessage());
        }
    }
}
