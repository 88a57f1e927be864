package dev.gearbox.router;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gearbox.ladder.LadderException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.*;

class TaskHeadTest {
    static final List<String> FEATURES = List.of("f0", "f1", "f2");
    static final List<String> TASKS = List.of("add", "mul", "rev");

    /** Three clusters in feature space, one per task, plus a noise feature. */
    static double[][] x;
    static int[] y;
    static {
        Random r = new Random(7);
        int n = 300;
        x = new double[n][];
        y = new int[n];
        double[][] centres = {{3, 0}, {0, 3}, {-3, -3}};
        for (int i = 0; i < n; i++) {
            int k = i % 3;
            y[i] = k;
            x[i] = new double[] {centres[k][0] + r.nextGaussian(), centres[k][1] + r.nextGaussian(), r.nextGaussian() * 10};
        }
    }

    @Test
    void learnsSeparableTasksAndGivesADistribution() {
        TaskHead h = TaskHead.train(FEATURES, TASKS, x, y, TaskHead.DEFAULT_L2);
        assertTrue(h.trainingAccuracy() > 0.97, "accuracy " + h.trainingAccuracy());
        double[] p = h.probabilities(new double[] {0, 4, 0});
        assertEquals(1.0, p[0] + p[1] + p[2], 1e-12);
        assertEquals(1, TaskHead.argmax(p), "a point deep in mul's cluster");
        assertTrue(p[1] > 0.9, "confident: " + p[1]);
        // Between clusters the head is unsure rather than confidently wrong.
        double[] mid = h.probabilities(new double[] {1.5, 1.5, 0});
        assertTrue(mid[0] < 0.9 && mid[1] < 0.9, "unsure between add and mul: " + java.util.Arrays.toString(mid));
    }

    @Test
    void trainingIsDeterministic() {
        TaskHead a = TaskHead.train(FEATURES, TASKS, x, y, 0.05);
        TaskHead b = TaskHead.train(FEATURES, TASKS, x, y, 0.05);
        assertArrayEquals(a.probabilities(x[5]), b.probabilities(x[5]), 0.0);
    }

    @Test
    void jsonRoundTripKeepsPredictions() throws Exception {
        TaskHead h = TaskHead.train(FEATURES, TASKS, x, y, 0.05);
        ObjectMapper json = new ObjectMapper();
        TaskHead back = TaskHead.fromJson(Path.of("t.json"), "task_head", json.readTree(json.writeValueAsString(h.toJson(json))));
        for (int i = 0; i < 10; i++) assertArrayEquals(h.probabilities(x[i]), back.probabilities(x[i]), 1e-15);
        assertEquals(h.trainingAccuracy(), back.trainingAccuracy());
    }

    @Test
    void badInputIsNamed() {
        var e = assertThrows(IllegalArgumentException.class, () -> TaskHead.train(FEATURES, TASKS, x, new int[x.length - 1], 0.05));
        assertTrue(e.getMessage().contains("labels"), e.getMessage());
        int[] bad = y.clone();
        bad[3] = 7;
        e = assertThrows(IllegalArgumentException.class, () -> TaskHead.train(FEATURES, TASKS, x, bad, 0.05));
        assertTrue(e.getMessage().contains("task index 7"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> TaskHead.train(FEATURES, List.of("only"), x, new int[x.length], 0.05));
        TaskHead h = TaskHead.train(FEATURES, TASKS, x, y, 0.05);
        e = assertThrows(IllegalArgumentException.class, () -> h.probabilities(new double[2]));
        assertTrue(e.getMessage().contains("3 features"), e.getMessage());
    }

    @Test
    void expertRoutingFileRoundTripsAndChecksTheLadder(@TempDir Path dir) throws Exception {
        TaskHead task = TaskHead.train(FEATURES, TASKS, x, y, 0.05);
        boolean[][] labels = new boolean[x.length][2];
        for (int i = 0; i < x.length; i++) labels[i][0] = y[i] != 0;
        RouterHead head = RouterHead.train(FEATURES, List.of("s", "l"), x, labels, 0.05).withThresholds(Map.of("s", 0.6));
        ExpertRouting r = new ExpertRouting(task, head, 0.7);
        Path f = dir.resolve(ExpertRouting.FILE);
        r.save(f);
        ExpertRouting back = ExpertRouting.load(f);
        assertEquals(0.7, back.minTaskProbability());
        assertEquals(Map.of("s", 0.6), back.head().thresholds());
        ExpertRouting.Task t = back.task(new double[] {4, 0, 0});
        assertEquals("add", t.task());
        assertEquals(List.of("add", "mul", "rev"), List.copyOf(t.probabilities().keySet()));
        // Unsure between two tasks: no expert.
        assertNull(new ExpertRouting(task, head, 0.999).task(new double[] {1.5, 1.5, 0}).task());

        back.checkCompatible(f, FEATURES, List.of("s", "l"), Map.of("s", Set.of("add")));
        var e = assertThrows(LadderException.class, () -> back.checkCompatible(f, FEATURES, List.of("s", "l"), Map.of("s", Set.of("sort"))));
        assertTrue(e.getMessage().contains("'sort'") && e.getMessage().contains("recalibrate"), e.getMessage());
        assertThrows(LadderException.class, () -> back.checkCompatible(f, FEATURES, List.of("s", "m", "l"), Map.of()));

        Files.writeString(f, "{\"format\": \"gearbox-router\", \"version\": 1}");
        e = assertThrows(LadderException.class, () -> ExpertRouting.load(f));
        assertTrue(e.getMessage().contains("not a Gearbox expert router file"), e.getMessage());
    }

    @Test
    void expertForATierIsTheTaskOnlyWhenTheTierHasIt() {
        assertEquals("add", ExpertRouting.expertFor("add", Set.of("add", "mul")));
        assertNull(ExpertRouting.expertFor("sort", Set.of("add", "mul")));
        assertNull(ExpertRouting.expertFor(null, Set.of("add")));
    }
}
