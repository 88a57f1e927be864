package dev.gearbox.svf;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

class CrossEntropySearchTest {
    static final String SHA = "a".repeat(64);

    @Test
    void findsTheMaximumOfASmoothScore() {
        double[] target = {0.2, -0.7, 1.3};
        var cem = new CrossEntropySearch(24, 6, 25, 1.0, 1e-3, 42);
        var found = cem.maximise(new double[3], a -> {
            double d = 0;
            for (int j = 0; j < 3; j++) d += (a[j] - target[j]) * (a[j] - target[j]);
            return -d;
        });
        for (int j = 0; j < 3; j++) assertEquals(target[j], found.best()[j], 0.05, "coordinate " + j);
        assertEquals(1 + 24 * 25, found.evaluations());
    }

    @Test
    void neverReturnsWorseThanTheStartAndIsSeeded() {
        var cem = new CrossEntropySearch(8, 2, 3, 0.5, 0, 1);
        // A step score that only the start reaches: the search must keep the start.
        var f = cem.maximise(new double[] {1, 0}, a -> a[0] == 1 && a[1] == 0 ? 1 : 0);
        assertArrayEquals(new double[] {1, 0}, f.best());
        assertEquals(1.0, f.score());
        var again = cem.maximise(new double[] {1, 0}, a -> -Math.abs(a[0]));
        var again2 = cem.maximise(new double[] {1, 0}, a -> -Math.abs(a[0]));
        assertArrayEquals(again.best(), again2.best(), 0.0);
    }

    @Test
    void mixtureIsTheWeightedSumOfZ() {
        var a = new SvfExpert("m", SHA, "add", "mlp", "", Map.of("w", new float[] {1, 2}), null);
        var b = new SvfExpert("m", SHA, "mul", "mlp", "", Map.of("w", new float[] {3, 0}), null);
        SvfExpert m = ExpertMixture.mix(List.of(a, b), new double[] {0.5, 0.25}, "new", "cem");
        assertArrayEquals(new float[] {1.25f, 1.0f}, m.z().get("w"));
        assertEquals("new", m.task());
        assertEquals(SHA, m.baseSha256());
    }

    @Test
    void mixtureRefusesExpertsOfDifferentModels() {
        var a = new SvfExpert("m", SHA, "add", "mlp", "", Map.of("w", new float[] {1, 2}), null);
        var b = new SvfExpert("m", "b".repeat(64), "mul", "mlp", "", Map.of("w", new float[] {3, 0}), null);
        var c = new SvfExpert("m", SHA, "mul", "mlp", "", Map.of("v", new float[] {3, 0}), null);
        assertThrows(IllegalArgumentException.class, () -> ExpertMixture.mix(List.of(a, b), new double[] {1, 1}, "x", ""));
        var e = assertThrows(IllegalArgumentException.class, () -> ExpertMixture.mix(List.of(a, c), new double[] {1, 1}, "x", ""));
        assertTrue(e.getMessage().contains("different matrices"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> ExpertMixture.mix(List.of(a), new double[] {1, 1}, "x", ""));
    }
}
