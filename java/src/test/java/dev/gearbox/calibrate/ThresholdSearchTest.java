package dev.gearbox.calibrate;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class ThresholdSearchTest {

    /**
     * Four prompts, two tiers (cost 1 and 10 each, gatekeeper 0): the small tier is right on the
     * prompts the router is confident about (p = 0.9, 0.8) and wrong on the others (p = 0.3, 0.1);
     * the large tier is right everywhere.
     */
    static Outcomes twoTiers() {
        boolean[][] correct = {{true, true}, {true, true}, {false, true}, {false, true}};
        double[][] cost = {{1, 10}, {1, 10}, {1, 10}, {1, 10}};
        double[][] p = {{0.9, 1}, {0.8, 1}, {0.3, 1}, {0.1, 1}};
        return new Outcomes(correct, cost, new double[4], p);
    }

    @Test
    void decisionsAndPoints() {
        Outcomes o = twoTiers();
        assertThat(o.decide(0, new double[] {0.85})).isEqualTo(0);
        assertThat(o.decide(1, new double[] {0.85})).isEqualTo(1);
        assertThat(o.single(0)).isEqualTo(new CurvePoint(0.1, 0.5));
        assertThat(o.single(1)).isEqualTo(new CurvePoint(1.0, 1.0));
        // Threshold 0.5: prompts 0,1 small (right), 2,3 large (right): cost (1+1+10+10)/40.
        CurvePoint p = o.routed(new double[] {0.5});
        assertThat(p.quality()).isEqualTo(1.0);
        assertThat(p.cost()).isCloseTo(22.0 / 40, within(1e-12));
        assertThat(o.shares(new double[] {0.5})).containsExactly(0.5, 0.5);
    }

    @Test
    void theGatekeeperIsCharged() {
        Outcomes base = twoTiers();
        Outcomes o = new Outcomes(base.correct(), base.cost(), new double[] {1, 1, 1, 1}, base.probability());
        assertThat(o.routed(new double[] {0.5}).cost()).isCloseTo(26.0 / 40, within(1e-12));
        assertThat(o.single(1).cost()).isEqualTo(1.0); // a single tier runs without the gatekeeper
    }

    @Test
    void routingUsesTheRoutedRunsAndSinglesTheTierAlone() {
        // Routed to the small tier, prompts 2 and 3 escalate: right, at cost 1 + 4.
        Outcomes base = twoTiers();
        boolean[][] routedCorrect = {{true, true}, {true, true}, {true, true}, {true, true}};
        double[][] routedCost = {{1, 10}, {1, 10}, {5, 10}, {5, 10}};
        Outcomes o = new Outcomes(base.correct(), base.cost(), routedCorrect, routedCost, new double[4], base.probability());
        assertThat(o.single(0)).isEqualTo(new CurvePoint(0.1, 0.5));
        assertThat(o.routed(new double[] {0.0})).isEqualTo(new CurvePoint(12.0 / 40, 1.0));
        assertThat(o.subset(new int[] {3}).routed(new double[] {0.0})).isEqualTo(new CurvePoint(0.5, 1.0));
        // The cheapest way to full quality is now everything to the small tier.
        assertThat(ThresholdSearch.forTargetQuality(o, 1.0).point().cost()).isCloseTo(12.0 / 40, within(1e-12));
    }

    @Test
    void theEnsembleTakesPromptsNoTierIsSureOf() {
        // The large tier is wrong on prompts 2 and 3, the ensemble (cost 15) right.
        Outcomes base = twoTiers();
        boolean[][] correct = {{true, true}, {true, true}, {false, false}, {false, false}};
        Outcomes o = new Outcomes(correct, base.cost(), correct, base.cost(), new double[4], base.probability(),
                new boolean[] {false, false, true, true}, new double[] {15, 15, 15, 15});
        assertThat(o.thresholdCount()).isEqualTo(2);
        assertThat(o.decide(2, new double[] {0.5, 0.35})).isEqualTo(Outcomes.ENSEMBLE);
        assertThat(o.decide(2, new double[] {0.5, 0.3})).isEqualTo(1); // P(s) = 0.3 is not below 0.3
        assertThat(o.decide(2, new double[] {0.5, 0.0})).isEqualTo(1); // 0: never the ensemble
        assertThat(o.decide(0, new double[] {0.5, 1.0})).isEqualTo(0); // a tier that clears comes first
        // Within the largest tier's compute, the best is s on 0, 1 and the ensemble on 2, 3.
        ThresholdSearch.Choice c = ThresholdSearch.forBudget(o, 1.0);
        assertThat(c.point().quality()).isEqualTo(1.0);
        assertThat(c.point().cost()).isCloseTo(32.0 / 40, within(1e-12));
        assertThat(o.shares(c.thresholds())).containsExactly(0.5, 0.0, 0.5);
        // The sweep leaves the ensemble off.
        assertThat(ThresholdSearch.sweep(o).getLast().point()).isEqualTo(new CurvePoint(1.0, 0.5));
    }

    @Test
    void targetQualityPicksTheCheapestSettingThatReachesIt() {
        ThresholdSearch.Choice c = ThresholdSearch.forTargetQuality(twoTiers(), 1.0);
        assertThat(c.metTarget()).isTrue();
        assertThat(c.point().quality()).isEqualTo(1.0);
        assertThat(c.point().cost()).isCloseTo(22.0 / 40, within(1e-12));
        assertThat(c.thresholds()[0]).isGreaterThan(0.3).isLessThanOrEqualTo(0.8);
        // 75% of the largest's quality: three of four right; cheapest is small on 0,1,2 (cost 13/40).
        ThresholdSearch.Choice c75 = ThresholdSearch.forTargetQuality(twoTiers(), 0.75);
        assertThat(c75.point().quality()).isEqualTo(0.75);
        assertThat(c75.point().cost()).isCloseTo(13.0 / 40, within(1e-12));
    }

    @Test
    void budgetPicksTheBestQualityWithinIt() {
        ThresholdSearch.Choice c = ThresholdSearch.forBudget(twoTiers(), 0.4);
        assertThat(c.metTarget()).isTrue();
        assertThat(c.point().cost()).isLessThanOrEqualTo(0.4);
        assertThat(c.point().quality()).isEqualTo(0.75);
        ThresholdSearch.Choice tooSmall = ThresholdSearch.forBudget(twoTiers(), 0.05);
        assertThat(tooSmall.metTarget()).isFalse();
        assertThat(tooSmall.point().cost()).isCloseTo(0.1, within(1e-12)); // the cheapest there is
    }

    @Test
    void perTierThresholdsAreTunedSeparately() {
        // Three tiers; tier 0 is only right where p0 is high, tier 1 is right everywhere: the best
        // setting sends everything not confidently small to the middle tier, never to the largest.
        boolean[][] correct = {{true, true, true}, {false, true, true}, {false, true, true}, {false, true, true}};
        double[][] cost = {{1, 3, 10}, {1, 3, 10}, {1, 3, 10}, {1, 3, 10}};
        double[][] p = {{0.9, 0.2, 1}, {0.2, 0.2, 1}, {0.3, 0.3, 1}, {0.1, 0.25, 1}};
        ThresholdSearch.Choice c = ThresholdSearch.forTargetQuality(new Outcomes(correct, cost, new double[4], p), 1.0);
        assertThat(c.point().quality()).isEqualTo(1.0);
        assertThat(c.point().cost()).isCloseTo(10.0 / 40, within(1e-12));
    }

    @Test
    void theSweepRunsFromEverythingSmallToEverythingLarge() {
        List<ThresholdSearch.SweepPoint> s = ThresholdSearch.sweep(twoTiers());
        assertThat(s.getFirst().point()).isEqualTo(new CurvePoint(0.1, 0.5));
        assertThat(s.getLast().point()).isEqualTo(new CurvePoint(1.0, 1.0));
    }

    @Test
    void badTargetsAreRejected() {
        assertThatThrownBy(() -> ThresholdSearch.forTargetQuality(twoTiers(), 0)).hasMessageContaining("--target-quality");
        assertThatThrownBy(() -> ThresholdSearch.forBudget(twoTiers(), -1)).hasMessageContaining("--budget");
    }

    @Test
    void splitsArePartitionsAndSeeded() {
        Splits s = Splits.of(10, 0.5, 7);
        assertThat(s.train()).hasSize(5);
        assertThat(s.validation()).hasSize(3);
        assertThat(s.heldOut()).hasSize(2);
        java.util.Set<Integer> all = new java.util.HashSet<>();
        for (int[] part : new int[][] {s.train(), s.validation(), s.heldOut()}) for (int i : part) assertThat(all.add(i)).isTrue();
        assertThat(all).hasSize(10);
        assertThat(Splits.of(10, 0.5, 7).train()).containsExactly(s.train());
        assertThat(Splits.of(100, 0.5, 8).train()).isNotEqualTo(Splits.of(100, 0.5, 7).train());
        assertThatThrownBy(() -> Splits.of(3, 0.5, 1)).hasMessageContaining("too few");
        assertThatThrownBy(() -> Splits.of(30, 1.0, 1)).hasMessageContaining("--split");
    }
}
