package dev.gearbox.router;

import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The zero-shot rule: larger tiers for prompts the gatekeeper finds harder, never the reverse. */
class ZeroShotRuleTest {
    static final List<String> TIERS = List.of("s", "m", "l");
    static final Map<String, Double> TH = Map.of("s", ZeroShotRule.THRESHOLD, "m", ZeroShotRule.THRESHOLD);

    static Signals signals(int tokens, double entropy, int vocab) {
        return new Signals(tokens, tokens, 3.0, 6.0, 0.5, 3.0, entropy, 0.3, vocab);
    }

    static int tier(int tokens, double entropy, int vocab) {
        return Router.choose(ZeroShotRule.probabilities(signals(tokens, entropy, vocab), 3), TIERS, TH, true);
    }

    @Test
    void monotonicInEntropyAndLength() {
        int vocab = 304;
        double lnV = Math.log(vocab);
        for (int tokens : new int[] {4, 12, 40, 200}) {
            int prev = 0;
            for (double u = 0; u <= 1.0; u += 0.01) {
                int t = tier(tokens, u * lnV, vocab);
                assertThat(t).isGreaterThanOrEqualTo(prev);
                prev = t;
            }
        }
        for (double u : new double[] {0.1, 0.4, 0.6}) {
            int prev = 0;
            for (int tokens = 1; tokens <= 400; tokens++) {
                int t = tier(tokens, u * lnV, vocab);
                assertThat(t).isGreaterThanOrEqualTo(prev);
                prev = t;
            }
        }
        for (int tokens = 2; tokens < 300; tokens += 7) {
            double[] a = ZeroShotRule.probabilities(signals(tokens, 1.0, vocab), 3);
            double[] b = ZeroShotRule.probabilities(signals(tokens, 1.5, vocab), 3);
            double[] c = ZeroShotRule.probabilities(signals(tokens + 5, 1.0, vocab), 3);
            assertThat(b[0]).isLessThanOrEqualTo(a[0]);
            assertThat(b[1]).isLessThanOrEqualTo(a[1]);
            assertThat(c[0]).isLessThanOrEqualTo(a[0]);
            assertThat(a[0]).isLessThanOrEqualTo(a[1]);
            assertThat(a[2]).isEqualTo(1.0);
        }
    }

    @Test
    void easyMidAndHardPromptsGoToSmallMediumAndLarge() {
        double lnV = Math.log(304);
        assertThat(tier(8, 0.03 * lnV, 304)).isEqualTo(0);       // short, sure of the answer
        assertThat(tier(9, 0.04 * lnV, 304)).isEqualTo(1);
        assertThat(tier(200, 0.9 * lnV, 304)).isEqualTo(2);      // long, unsure
    }

    @Test
    void scaledByVocabularySize() {
        // The same share of a uniform guess's entropy means the same difficulty for any vocabulary.
        for (int vocab : new int[] {300, 32000, 150000}) {
            double lnV = Math.log(vocab);
            assertThat(ZeroShotRule.uncertainty(signals(16, 0.3 * lnV, vocab))).isCloseTo(0.3, within(1e-12));
            assertThat(ZeroShotRule.difficulty(signals(16, 0.3 * lnV, vocab))).isCloseTo((0.3 + 0.5) / 2, within(1e-12));
        }
        assertThat(ZeroShotRule.length(signals(256, 1, 300))).isEqualTo(1.0);
        assertThat(ZeroShotRule.length(signals(5000, 1, 300))).isEqualTo(1.0);
        assertThat(ZeroShotRule.length(signals(1, 1, 300))).isEqualTo(0.0);
    }

    @Test
    void cutPointsSpreadOverTheTiers() {
        assertThat(ZeroShotRule.cutPoint(0, 2)).isEqualTo((ZeroShotRule.LOW + ZeroShotRule.HIGH) / 2);
        assertThat(ZeroShotRule.cutPoint(0, 3)).isEqualTo(ZeroShotRule.LOW);
        assertThat(ZeroShotRule.cutPoint(1, 3)).isEqualTo(ZeroShotRule.HIGH);
        assertThat(ZeroShotRule.cutPoint(1, 4)).isBetween(ZeroShotRule.LOW, ZeroShotRule.HIGH);
        assertThat(ZeroShotRule.probabilities(signals(10, 1, 320), 1)).containsExactly(1.0);
    }
}
