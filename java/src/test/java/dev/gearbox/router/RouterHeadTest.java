package dev.gearbox.router;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** The logistic head: learns separable data, is deterministic, and survives router.json round trips. */
class RouterHeadTest {
    @TempDir
    Path dir;

    static final List<String> FEATURES = List.of("difficulty", "noise", "constant");
    static final List<String> TIERS = List.of("s", "m", "l");

    /** Difficulty u in [0, 1]: s is good below 0.3, m below 0.7, l always (nested, as real tiers are). */
    static double[][] x(int n, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[][] x = new double[n][];
        for (int i = 0; i < n; i++) x[i] = new double[] {r.nextDouble() * 10, r.nextGaussian() * 3 + 5, 7};
        return x;
    }

    static boolean[][] labels(double[][] x) {
        boolean[][] y = new boolean[x.length][];
        for (int i = 0; i < x.length; i++) {
            double u = x[i][0] / 10;
            y[i] = new boolean[] {u < 0.3, u < 0.7, true};
        }
        return y;
    }

    static RouterHead trained() {
        double[][] x = x(400, 1);
        return RouterHead.train(FEATURES, TIERS, x, labels(x), 0.01);
    }

    @Test
    void learnsSeparableDataWithOrderedProbabilities() {
        RouterHead h = trained();
        double[] easy = h.probabilities(new double[] {1, 5, 7});
        double[] mid = h.probabilities(new double[] {5, 5, 7});
        double[] hard = h.probabilities(new double[] {9, 5, 7});
        assertThat(easy[0]).isGreaterThan(0.9);
        assertThat(mid[0]).isLessThan(0.1);
        assertThat(mid[1]).isGreaterThan(0.9);
        assertThat(hard[1]).isLessThan(0.1);
        for (double[] p : new double[][] {easy, mid, hard}) assertThat(p[2]).isEqualTo(1.0);
        // Smaller tiers are never more likely to match the largest than bigger ones, here.
        for (double u = 0; u <= 10; u += 0.5) {
            double[] p = h.probabilities(new double[] {u, 5, 7});
            assertThat(p[0]).isLessThanOrEqualTo(p[1] + 1e-9);
        }
        // Monotonic in difficulty.
        double prev = 2;
        for (double u = 0; u <= 10; u += 0.5) {
            double p = h.probabilities(new double[] {u, 5, 7})[1];
            assertThat(p).isLessThanOrEqualTo(prev);
            prev = p;
        }
        assertThat(h.training().examples()).isEqualTo(400);
        assertThat(h.training().tiers().get("s").accuracy()).isGreaterThan(0.97);
        assertThat(h.training().tiers().get("m").positives()).isBetween(240, 320);
        assertThat(h.thresholds()).containsOnlyKeys("s", "m");
    }

    @Test
    void decisionsFollowTheThresholds() {
        RouterHead h = trained();
        var choose = (java.util.function.BiFunction<Double, Map<String, Double>, Integer>) (u, th) ->
                Router.choose(h.probabilities(new double[] {u, 5, 7}), TIERS, th, true);
        Map<String, Double> th = Map.of("s", 0.5, "m", 0.5);
        assertThat(choose.apply(1.0, th)).isEqualTo(0);
        assertThat(choose.apply(5.0, th)).isEqualTo(1);
        assertThat(choose.apply(9.0, th)).isEqualTo(2);
        Map<String, Double> withEnsemble = Map.of("s", 0.5, "m", 0.5, "ensemble", 0.2);
        assertThat(choose.apply(9.5, withEnsemble)).isEqualTo(-1);
        assertThat(choose.apply(1.0, withEnsemble)).isEqualTo(0);
    }

    @Test
    void trainingIsDeterministic() {
        RouterHead a = trained(), b = trained();
        assertThat(a.toJson()).isEqualTo(b.toJson());
    }

    @Test
    void saveLoadRoundTripGivesIdenticalDecisions() throws Exception {
        RouterHead h = trained().withThresholds(Map.of("s", 0.7, "m", 0.4, "ensemble", 0.05));
        Path f = dir.resolve("router.json");
        h.save(f);
        RouterHead back = RouterHead.load(f);
        assertThat(back.featureNames()).isEqualTo(FEATURES);
        assertThat(back.tierNames()).isEqualTo(TIERS);
        assertThat(back.thresholds()).isEqualTo(h.thresholds());
        assertThat(back.training()).isEqualTo(h.training());
        for (double[] x : x(200, 99)) {
            assertThat(back.probabilities(x)).containsExactly(h.probabilities(x));
            assertThat(Router.choose(back.probabilities(x), TIERS, back.thresholds(), true))
                    .isEqualTo(Router.choose(h.probabilities(x), TIERS, h.thresholds(), true));
        }
        assertThat(Files.readString(f)).contains("\"format\" : \"gearbox-router\"", "\"thresholds\"", "\"feature_names\"");
    }

    @Test
    void degenerateLabelsStayFinite() {
        double[][] x = x(50, 3);
        boolean[][] y = new boolean[50][];
        for (int i = 0; i < 50; i++) y[i] = new boolean[] {true, true, true};
        RouterHead h = RouterHead.train(FEATURES, TIERS, x, y, 0.1);
        double[] p = h.probabilities(x[0]);
        assertThat(p[0]).isGreaterThan(0.9).isLessThanOrEqualTo(1.0);
        assertThat(Double.isFinite(h.toJson().get("heads").get("s").get("intercept").asDouble())).isTrue();
    }

    @Test
    void badInputs() {
        double[][] x = x(10, 1);
        assertThatThrownBy(() -> RouterHead.train(FEATURES, TIERS, new double[0][], new boolean[0][], 0.1)).hasMessageContaining("no training examples");
        assertThatThrownBy(() -> RouterHead.train(FEATURES, TIERS, x, labels(x(9, 1)), 0.1)).hasMessageContaining("10 examples but 9 label rows");
        assertThatThrownBy(() -> RouterHead.train(List.of("a"), TIERS, x, labels(x), 0.1)).hasMessageContaining("has 3 features, expected 1");
        assertThatThrownBy(() -> trained().probabilities(new double[2])).hasMessageContaining("takes 3 features, got 2");
        assertThatThrownBy(() -> trained().withThresholds(Map.of("xl", 0.5))).hasMessageContaining("unknown tier 'xl'");
        assertThatThrownBy(() -> trained().withThresholds(Map.of("s", 1.5))).hasMessageContaining("must be in [0, 1]");
    }

    @Test
    void badRouterFilesNameTheField() throws Exception {
        Path f = dir.resolve("router.json");
        trained().save(f);
        String good = Files.readString(f);
        Files.writeString(f, "{not json");
        assertThatThrownBy(() -> RouterHead.load(f)).hasMessageContaining("router.json").hasMessageContaining("cannot read router file");
        Files.writeString(f, good.replace("gearbox-router", "something-else"));
        assertThatThrownBy(() -> RouterHead.load(f)).hasMessageContaining("format");
        Files.writeString(f, good.replaceFirst("\"means\" : \\[ [^,]*,", "\"means\" : ["));
        assertThatThrownBy(() -> RouterHead.load(f)).hasMessageContaining("means: has 2 values, expected 3");
        Files.writeString(f, good.replace("\"s\" : 0.5", "\"s\" : 7"));
        assertThatThrownBy(() -> RouterHead.load(f)).hasMessageContaining("thresholds.s").hasMessageContaining("[0, 1]");
        assertThatThrownBy(() -> trained().checkCompatible(f, List.of("other", "features", "x"), TIERS)).hasMessageContaining("recalibrate");
        assertThatThrownBy(() -> trained().checkCompatible(f, FEATURES, List.of("s", "l"))).hasMessageContaining("tiers [s, m, l]");
    }

    @Test
    void sigmoidIsStableAtTheExtremes() {
        assertThat(RouterHead.sigmoid(1000)).isEqualTo(1.0);
        assertThat(RouterHead.sigmoid(-1000)).isEqualTo(0.0);
        assertThat(RouterHead.sigmoid(0)).isCloseTo(0.5, within(1e-15));
    }

    @Test
    void gradientDescentReachesNewtonsOptimum() {
        // The objective is strictly convex: both solvers must land on the same weights.
        int d = 40;
        SplittableRandom r = new SplittableRandom(5);
        double[][] x = new double[300][d];
        boolean[][] y = new boolean[300][];
        for (int i = 0; i < x.length; i++) {
            for (int j = 0; j < d; j++) x[i][j] = r.nextGaussian();
            double u = x[i][0] + 0.5 * x[i][1] + 0.7 * r.nextGaussian();
            y[i] = new boolean[] {u < -0.5, u < 0.5, true};
        }
        List<String> names = new java.util.ArrayList<>();
        for (int j = 0; j < d; j++) names.add("f" + j);
        RouterHead newton = RouterHead.train(names, TIERS, x, y, 0.05, Integer.MAX_VALUE);
        RouterHead gd = RouterHead.train(names, TIERS, x, y, 0.05, 0);
        for (double[] probe : x(50, 11)) {
            double[] p = new double[d];
            System.arraycopy(probe, 0, p, 0, 3);
            double[] a = newton.probabilities(p), b = gd.probabilities(p);
            for (int t = 0; t < 3; t++) assertThat(b[t]).isCloseTo(a[t], within(1e-3));
        }
        assertThat(gd.training().tiers().get("s").logLoss()).isCloseTo(newton.training().tiers().get("s").logLoss(), within(1e-4));
    }

    @Test
    void wideFeatureVectorsTrainByGradientDescent() {
        // A wide gatekeeper: the informative feature plus hundreds of noise columns.
        int d = RouterHead.NEWTON_MAX_PARAMETERS + 50;
        SplittableRandom r = new SplittableRandom(5);
        double[][] x = new double[400][d];
        boolean[][] y = new boolean[400][];
        for (int i = 0; i < x.length; i++) {
            for (int j = 0; j < d; j++) x[i][j] = r.nextGaussian();
            double u = r.nextDouble() * 10;
            x[i][0] = u;
            y[i] = new boolean[] {u < 3, u < 7, true};
        }
        List<String> names = new java.util.ArrayList<>();
        for (int j = 0; j < d; j++) names.add("f" + j);
        RouterHead h = RouterHead.train(names, TIERS, x, y, 0.05);
        assertThat(h.training().tiers().get("s").accuracy()).isGreaterThan(0.9);
        // Probes at the noise columns' mean, so only the informative feature speaks.
        double[] easy = new double[d], hard = new double[d];
        easy[0] = 0.5;
        hard[0] = 9.5;
        assertThat(h.probabilities(easy)[0]).isGreaterThan(h.probabilities(hard)[0]);
        assertThat(h.probabilities(easy)[1]).isGreaterThan(h.probabilities(hard)[1] + 0.2);
        assertThat(RouterHead.train(names, TIERS, x, y, 0.05).toJson()).isEqualTo(h.toJson());
    }
}
