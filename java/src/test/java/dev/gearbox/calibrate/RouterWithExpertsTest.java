package dev.gearbox.calibrate;

import dev.gearbox.ladder.Ladder;
import dev.gearbox.ladder.LadderException;
import dev.gearbox.router.Decision;
import dev.gearbox.router.ExpertRouting;
import dev.gearbox.router.Features;
import dev.gearbox.router.Router;
import dev.gearbox.router.RouterHead;
import dev.gearbox.router.TaskHead;
import dev.gearbox.svf.SvfFactors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** The router's two passes: the task head names the task, the chosen tier answers with its expert. */
class RouterWithExpertsTest {
    @TempDir
    Path dir;

    @Test
    void decisionCarriesTheTaskAndTheChosenTiersExpert() throws Exception {
        assumeTrue(ExpertLadders.available(), "needs models/tier-*.gguf");
        Path add = dir.resolve("m-add.gguf");
        try (SvfFactors f = ExpertLadders.factors(dir, "m")) {
            ExpertLadders.expert(f, "m", "add", i -> 1f).write(add);
        }
        Path ladderFile = ExpertLadders.ladder(dir, Map.of("m", Map.of("add", add)), null);
        List<TaskRow> rows = Dataset.read(ExpertLadders.MODELS.resolve("data/calibration.jsonl")).subList(0, 120);
        List<String> tasks = ExpertCalibration.tasksOf(rows);
        try (Ladder ladder = Ladder.open(ladderFile)) {
            // Without router-experts.json the ladder routes as before: no expert, no task probabilities.
            assertFalse(Router.hasExperts(ladder));
            List<String> names;
            double[][] x = new double[rows.size()][];
            int[] y = new int[rows.size()];
            try (Router plain = Router.forLadder(ladder)) {
                Decision d = plain.route("add:12+34=");
                assertNull(d.expert());
                assertTrue(d.taskProbabilities().isEmpty());
                names = plain.gatekeeper().featureNames();
                for (int i = 0; i < rows.size(); i++) {
                    Features f = plain.features(rows.get(i).text());
                    x[i] = f.vector();
                    y[i] = tasks.indexOf(rows.get(i).extra("task"));
                }
            }
            TaskHead taskHead = TaskHead.train(names, tasks, x, y, TaskHead.DEFAULT_L2);
            assertTrue(taskHead.trainingAccuracy() > 0.95, "the task is on the prompt's surface: " + taskHead.trainingAccuracy());
            boolean[][] labels = new boolean[rows.size()][3];
            for (int i = 0; i < rows.size(); i++) labels[i][1] = true;
            // Tier s never, tier m always: every prompt goes to m, which has an expert for add only.
            RouterHead head = RouterHead.train(names, ladder.tierNames(), x, labels, RouterHead.DEFAULT_L2).withThresholds(Map.of("m", 0.0));
            new ExpertRouting(taskHead, head, 0.5).save(dir.resolve(ExpertRouting.FILE));
            assertTrue(Router.hasExperts(ladder));

            try (Router r = Router.forLadder(ladder)) {
                assertEquals(ExpertRouting.FILE, r.source());
                Decision d = r.route("add:482+913=");
                assertEquals("m", d.choice());
                assertEquals("add", d.expert());
                assertEquals(tasks, new ArrayList<>(d.taskProbabilities().keySet()));
                assertTrue(d.taskProbabilities().get("add") > 0.5, d.taskProbabilities().toString());
                assertTrue(d.reason().contains("expert add"), d.reason());

                Decision sort = r.route("sort:314159=");
                assertEquals("m", sort.choice());
                assertNull(sort.expert(), "m has no sort expert");
                assertTrue(sort.reason().contains("no expert for it"), sort.reason());
            }
            try (Router off = Router.forLadder(ladder, false)) {
                assertNull(off.route("add:482+913=").expert(), "experts off: the base router");
            }

            // A stale file (an expert for a task the head never learned) is a clear error at open.
            new ExpertRouting(TaskHead.train(names, List.of("mul", "rev"), x, y.clone().length > 0 ? binary(y) : y, 0.05), head, 0.5)
                    .save(dir.resolve(ExpertRouting.FILE));
            var e = assertThrows(LadderException.class, () -> Router.forLadder(ladder));
            assertTrue(e.getMessage().contains("'add'") && e.getMessage().contains("recalibrate"), e.getMessage());
            Files.delete(dir.resolve(ExpertRouting.FILE));
        }
    }

    private static int[] binary(int[] y) {
        int[] b = new int[y.length];
        for (int i = 0; i < y.length; i++) b[i] = y[i] % 2;
        return b;
    }
}
