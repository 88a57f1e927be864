package dev.gearbox.router;

import dev.gearbox.ladder.Ladder;
import dev.gearbox.ladder.LadderException;
import dev.gearbox.ladder.TestLadders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The decision rule and the router file beside a ladder. */
class RouterTest {
    @TempDir
    Path dir;

    static final List<String> TIERS = List.of("s", "m", "l");

    @Test
    void smallestTierClearingItsThreshold() {
        Map<String, Double> th = Map.of("s", 0.8, "m", 0.6);
        assertThat(Router.choose(new double[] {0.9, 0.95, 1}, TIERS, th, false)).isEqualTo(0);
        assertThat(Router.choose(new double[] {0.7, 0.95, 1}, TIERS, th, false)).isEqualTo(1);
        assertThat(Router.choose(new double[] {0.7, 0.5, 1}, TIERS, th, false)).isEqualTo(2);
        // Thresholds are inclusive; a tier with no threshold is skipped.
        assertThat(Router.choose(new double[] {0.8, 0, 1}, TIERS, th, false)).isEqualTo(0);
        assertThat(Router.choose(new double[] {0.99, 0.99, 1}, TIERS, Map.of("m", 0.5), false)).isEqualTo(1);
    }

    @Test
    void ensembleOnlyWhenEnabledAndThresholded() {
        Map<String, Double> th = Map.of("s", 0.8, "m", 0.6, "ensemble", 0.3);
        assertThat(Router.choose(new double[] {0.1, 0.2, 1}, TIERS, th, true)).isEqualTo(-1);
        assertThat(Router.choose(new double[] {0.1, 0.2, 1}, TIERS, th, false)).isEqualTo(2);
        assertThat(Router.choose(new double[] {0.1, 0.4, 1}, TIERS, th, true)).isEqualTo(2);   // not hard enough
        assertThat(Router.choose(new double[] {0.1, 0.2, 1}, TIERS, Map.of("s", 0.8, "m", 0.6), true)).isEqualTo(2);
    }

    @Test
    void usesRouterJsonBesideTheLadderWhenPresent() throws Exception {
        Path ladderFile = TestLadders.ladder(dir, "", "ensemble: {tiers: [m, l]}");
        try (Ladder l = Ladder.open(ladderFile)) {
            String[] prompts = {"1+1=", "the cat", "23*47+19=", "sort: q w e r t y", "hello", "99-12=", "reverse abcdef", "Once upon a time"};
            double[][] x;
            try (Router zero = Router.forLadder(l)) {
                assertThat(zero.source()).isEqualTo("zero-shot");
                assertThat(zero.head()).isNull();
                Decision d = zero.route("1+1=");
                assertThat(d.source()).isEqualTo("zero-shot");
                assertThat(d.probabilities()).hasSize(3);
                assertThat(d.tierNames()).isEqualTo(TIERS);
                x = new double[prompts.length][];
                for (int i = 0; i < prompts.length; i++) x[i] = zero.features(prompts[i]).vector();
            }
            boolean[][] y = new boolean[prompts.length][];
            for (int i = 0; i < prompts.length; i++) y[i] = new boolean[] {prompts[i].length() < 6, prompts[i].length() < 10, true};
            try (Router tmp = Router.zeroShot(l)) {
                RouterHead h = RouterHead.train(tmp.gatekeeper().featureNames(), l.tierNames(), x, y, 1.0)
                        .withThresholds(Map.of("s", 0.5, "m", 0.5, "ensemble", 0.01));
                h.save(l.routerPath());
            }
            try (Router trained = Router.forLadder(l)) {
                assertThat(trained.source()).isEqualTo("router.json");
                assertThat(trained.thresholds()).containsEntry("ensemble", 0.01);
                for (String p : prompts) {
                    Decision d = trained.route(p);
                    assertThat(d.source()).isEqualTo("router.json");
                    assertThat(d.probabilities()[0]).isBetween(0.0, 1.0);
                    assertThat(d.choice()).isEqualTo(d.tierIndex() < 0 ? "ensemble" : TIERS.get(d.tierIndex()));
                    assertThat(d.reason()).isNotBlank();
                    assertThat(d.nanos()).isPositive();
                    // Same features + same thresholds = same decision, through the pure rule too.
                    assertThat(Router.choose(d.probabilities(), TIERS, d.thresholds(), true)).isEqualTo(d.tierIndex());
                }
            }
            // A router trained for other tiers is refused with a message naming router.json.
            Files.writeString(l.routerPath(), Files.readString(l.routerPath()).replace("\"m\"", "\"mm\""));
            assertThatThrownBy(() -> Router.forLadder(l)).isInstanceOf(LadderException.class).hasMessageContaining("router.json");
        }
    }
}
