package dev.gearbox.router;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The zero-shot rule: larger tiers for prompts the gatekeeper finds harder, never the reverse. */
class ZeroShotRuleTest {
    static final List<String> TIERS = List.of("s", "m", "l");
    static final Map<String, Double> TH = Map.of("s", ZeroShotRule.THRESHOLD, "m", ZeroShotRule.THRESHOLD);

    static Signals signals(double surprisal, double entropy, int vocab) {
        return new Signals(20, 20, surprisal, surprisal * 2, 0.5, surprisal, entropy, 0.3, vocab);
    }

    static int tier(double surprisal, double entropy, int vocab) {
        return Router.choose(ZeroShotRule.probabilities(signals(surprisal, entropy, vocab), 3), TIERS, TH, true);
    }

    @Test
    void monotonicInSurprisalAndEntropy() {
        int vocab = 320;
        double lnV = Math.log(vocab);
        int prev = 0;
        for (double u = 0; u <= 1.2; u += 0.01) {
            int t = tier(u * lnV, 0.3 * lnV, vocab);
            assertThat(t).isGreaterThanOrEqualTo(prev);
            prev = t;
        }
        assertThat(prev).isEqualTo(2);
        prev = 0;
        for (double e = 0; e <= 1.0; e += 0.01) {
            int t = tier(0.3 * lnV, e * lnV, vocab);
            assertThat(t).isGreaterThanOrEqualTo(prev);
            prev = t;
        }
        for (double u = 0; u <= 1; u += 0.05) {
            double[] a = ZeroShotRule.probabilities(signals(u * lnV, 0.2, vocab), 3);
            double[] b = ZeroShotRule.probabilities(signals((u + 0.05) * lnV, 0.2, vocab), 3);
            assertThat(b[0]).isLessThanOrEqualTo(a[0]);
            assertThat(b[1]).isLessThanOrEqualTo(a[1]);
            assertThat(a[0]).isLessThanOrEqualTo(a[1]);
            assertThat(a[2]).isEqualTo(1.0);
        }
    }

    @Test
    void easyMidAndHardPromptsGoToSmallMediumAndLarge() {
        double lnV = Math.log(320);
        assertThat(tier(0.05 * lnV, 0.05 * lnV, 320)).isEqualTo(0);
        assertThat(tier(0.35 * lnV, 0.35 * lnV, 320)).isEqualTo(1);
        assertThat(tier(0.9 * lnV, 0.9 * lnV, 320)).isEqualTo(2);
    }

    @Test
    void scaledByVocabularySize() {
        // The same share of a uniform guess's surprisal means the same difficulty for any vocabulary.
        for (int vocab : new int[] {300, 32000, 150000}) {
            double lnV = Math.log(vocab);
            assertThat(ZeroShotRule.difficulty(signals(0.4 * lnV, 0.2 * lnV, vocab))).isEqualTo(0.3, org.assertj.core.api.Assertions.within(1e-12));
        }
    }

    @Test
    void cutPointsSpreadOverTheTiers() {
        assertThat(ZeroShotRule.cutPoint(0, 2)).isEqualTo(0.35);
        assertThat(ZeroShotRule.cutPoint(0, 3)).isEqualTo(ZeroShotRule.LOW);
        assertThat(ZeroShotRule.cutPoint(1, 3)).isEqualTo(ZeroShotRule.HIGH);
        assertThat(ZeroShotRule.cutPoint(1, 4)).isBetween(ZeroShotRule.LOW, ZeroShotRule.HIGH);
        assertThat(ZeroShotRule.probabilities(signals(1, 1, 320), 1)).containsExactly(1.0);
    }
}
