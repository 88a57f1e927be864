package dev.gearbox.calibrate;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class RoutingMetricsTest {
    private static final CurvePoint WEAK = new CurvePoint(0.2, 0.5), STRONG = new CurvePoint(1.0, 0.9);

    @Test
    void pgrIsTheShareOfTheGapRecovered() {
        assertThat(RoutingMetrics.pgr(0.7, 0.5, 0.9)).isCloseTo(0.5, within(1e-12));
        assertThat(RoutingMetrics.pgr(0.9, 0.5, 0.9)).isCloseTo(1.0, within(1e-12));
        assertThat(RoutingMetrics.pgr(0.4, 0.5, 0.9)).isCloseTo(-0.25, within(1e-12));
        assertThat(RoutingMetrics.pgr(0.5, 0.5, 0.5)).isNaN();
        assertThat(RoutingMetrics.pgr(0.5, 0.9, 0.5)).isNaN(); // a "strong" model worse than the weak one: no gap to recover
    }

    @Test
    void randomTwoModelRoutingHasApgrOneHalf() {
        // Mixing weak and strong: the straight line between them.
        List<CurvePoint> line = List.of(new CurvePoint(0.4, 0.6), new CurvePoint(0.6, 0.7), new CurvePoint(0.8, 0.8));
        assertThat(RoutingMetrics.apgr(line, WEAK, STRONG)).isCloseTo(0.5, within(1e-12));
        assertThat(RoutingMetrics.cpt(line, WEAK, STRONG, 0.5)).isCloseTo(0.6, within(1e-12));
        assertThat(RoutingMetrics.cpt(line, WEAK, STRONG, 0.8)).isCloseTo(0.84, within(1e-12));
    }

    @Test
    void aRouterThatReachesStrongQualityEarlyScoresHigh() {
        // One point at cost 0.4 with PGR 1: curve (0.2,0) -> (0.4,1) -> (1,1).
        // Area = 0.2 * 0.5 + 0.6 * 1 = 0.7 over width 0.8 -> 0.875.
        List<CurvePoint> r = List.of(new CurvePoint(0.4, 0.9));
        assertThat(RoutingMetrics.apgr(r, WEAK, STRONG)).isCloseTo(0.875, within(1e-12));
        assertThat(RoutingMetrics.cpt(r, WEAK, STRONG, 0.5)).isCloseTo(0.3, within(1e-12));
        assertThat(RoutingMetrics.cpt(r, WEAK, STRONG, 0.8)).isCloseTo(0.36, within(1e-12));
    }

    @Test
    void theCurveIsMonotoneAndIgnoresPointsCostlierThanStrong() {
        // (0.5, PGR 0.75) then a worse point at 0.7 (PGR 0.25) that the envelope ignores; 1.2 is over budget.
        List<CurvePoint> r = List.of(new CurvePoint(0.5, 0.8), new CurvePoint(0.7, 0.6), new CurvePoint(1.2, 1.0));
        List<CurvePoint> c = RoutingMetrics.pgrCurve(r, WEAK, STRONG);
        assertThat(c).extracting(CurvePoint::cost).containsExactly(0.2, 0.5, 0.7, 1.0);
        assertThat(c.get(2).quality()).isCloseTo(0.75, within(1e-12));
        // Area: 0.3*0.375 + 0.2*0.75 + 0.3*0.875 = 0.1125 + 0.15 + 0.2625 = 0.525; / 0.8 = 0.65625
        assertThat(RoutingMetrics.apgr(r, WEAK, STRONG)).isCloseTo(0.65625, within(1e-12));
    }

    @Test
    void aPointCheaperThanTheWeakModelCountsAtTheWeakCost() {
        List<CurvePoint> r = List.of(new CurvePoint(0.1, 0.9));
        assertThat(RoutingMetrics.apgr(r, WEAK, STRONG)).isCloseTo(1.0, within(1e-12));
        assertThat(RoutingMetrics.cpt(r, WEAK, STRONG, 0.8)).isCloseTo(0.2, within(1e-12));
    }

    @Test
    void noQualityGapGivesNaN() {
        CurvePoint same = new CurvePoint(1, 0.5);
        assertThat(RoutingMetrics.apgr(List.of(), WEAK.withQuality(0.5), same)).isNaN();
        assertThat(RoutingMetrics.cpt(List.of(), WEAK.withQuality(0.5), same, 0.5)).isNaN();
        assertThat(RoutingMetrics.apgr(List.of(), WEAK.withQuality(0.95), STRONG)).isNaN();
        assertThat(RoutingMetrics.apgr(List.of(), new CurvePoint(1.0, 0.5), STRONG)).isNaN(); // weak costs as much as strong
    }

    @Test
    void randomRoutingIsTheBestMixtureOfTiers() {
        // s (0.1, 0.3), m (0.3, 0.7), l (1.0, 0.8), and a dominated tier (0.5, 0.6).
        List<CurvePoint> tiers = List.of(new CurvePoint(1.0, 0.8), new CurvePoint(0.1, 0.3), new CurvePoint(0.5, 0.6), new CurvePoint(0.3, 0.7));
        assertThat(RoutingMetrics.randomFrontier(tiers)).containsExactly(new CurvePoint(0.1, 0.3), new CurvePoint(0.3, 0.7), new CurvePoint(1.0, 0.8));
        assertThat(RoutingMetrics.randomQuality(tiers, 0.2)).isCloseTo(0.5, within(1e-12));
        assertThat(RoutingMetrics.randomQuality(tiers, 0.65)).isCloseTo(0.75, within(1e-12));
        assertThat(RoutingMetrics.randomQuality(tiers, 0.05)).isCloseTo(0.3, within(1e-12));
        assertThat(RoutingMetrics.randomQuality(tiers, 1.5)).isCloseTo(0.8, within(1e-12));
        // A middle tier under the chord of its neighbours is mixed past.
        List<CurvePoint> concave = List.of(new CurvePoint(0.1, 0.3), new CurvePoint(0.5, 0.4), new CurvePoint(1.0, 0.9));
        assertThat(RoutingMetrics.randomFrontier(concave)).containsExactly(new CurvePoint(0.1, 0.3), new CurvePoint(1.0, 0.9));
        assertThat(RoutingMetrics.randomQuality(concave, 0.55)).isCloseTo(0.6, within(1e-12));
    }
}
