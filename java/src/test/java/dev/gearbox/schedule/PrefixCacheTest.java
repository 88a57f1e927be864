package dev.gearbox.schedule;

import dev.gearbox.ladder.Ladder;
import dev.gearbox.ladder.TestLadders;
import dev.gearbox.ladder.Tier;
import dev.gearbox.router.Router;
import dev.gearbox.sample.SamplingParams;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** Prefix caching in a tier: reused blocks give the same answers, are counted, cost no prefill, and give way to sequences. */
class PrefixCacheTest {
    @TempDir
    Path dir;

    private static final String SYSTEM = "you are careful: check the sums twice. ".repeat(2);

    private static SamplingParams greedy(int n) {
        return SamplingParams.greedy().toBuilder().maxTokens(n).build();
    }

    @Test
    void aPromptThatStartsLikeAnEarlierOneReusesItsBlocksAndAnswersTheSame() throws Exception {
        try (Ladder l = Ladder.open(TestLadders.ladder(dir, "", "")); Router zero = Router.zeroShot(l);
             // Room beyond the one sequence a slot holds, for the cache to keep the whole prompt.
             Scheduler s = Scheduler.open(l, zero, Scheduler.Options.defaults().withKvBudget("m", 1 << 20));
             SequentialLadder oracle = new SequentialLadder(l, zero)) {
            Tier m = l.tier("m");
            Result first = s.submit(Request.of("m", SYSTEM + "what is 2+2?", greedy(6))).future().join();
            assertThat(first.usage().cachedTokens()).isZero();
            String second = SYSTEM + "and what is 3+3?";
            Result r = s.submit(Request.of("m", second, greedy(6))).future().join();
            int n = m.model().tokenizer().encode(second, true, false).length;
            int shared = commonPrefix(m.model().tokenizer().encode(SYSTEM + "what is 2+2?", true, false), m.model().tokenizer().encode(second, true, false));
            int expected = Math.min(shared, n - 1) / PrefixCache.BLOCK * PrefixCache.BLOCK;
            assertThat(expected).isGreaterThanOrEqualTo(4 * PrefixCache.BLOCK);
            assertThat(r.usage().cachedTokens()).isEqualTo(expected);
            var want = oracle.execute(second, r.decision(), new SequentialLadder.Options(null, 6, false));
            assertThat(r.text().trim()).isEqualTo(want.text());
            assertThat(r.tokens()).containsExactly(want.tokens());
            // Only the positions after the cached blocks were computed.
            int decoded = r.hops().getFirst().reason().equals("max_tokens") ? r.tokens().length - 1 : r.tokens().length;
            double computed = m.flops(expected, n - expected) + m.flops(n, decoded);
            assertThat(r.hops().getFirst().flops()).isCloseTo(computed, within(1e-9 * computed));
            var stats = s.stats("m");
            assertThat(stats.prefixHits()).isGreaterThanOrEqualTo(1);
            assertThat(stats.prefixTokensReused()).isGreaterThanOrEqualTo(expected);
            assertThat(stats.prefixCacheBytes()).isPositive();
        }
    }

    @Test
    void offMeansNoReuseAndTheSameAnswers() throws Exception {
        try (Ladder l = Ladder.open(TestLadders.ladder(dir, "", "")); Router zero = Router.zeroShot(l);
             Scheduler on = Scheduler.open(l, zero, Scheduler.Options.defaults());
             Scheduler off = Scheduler.open(l, zero, Scheduler.Options.defaults().withPrefixCaching(false))) {
            for (Scheduler s : new Scheduler[] {on, off}) s.submit(Request.of("s", SYSTEM + "one", greedy(5))).future().join();
            Result a = on.submit(Request.of("s", SYSTEM + "two", greedy(5))).future().join();
            Result b = off.submit(Request.of("s", SYSTEM + "two", greedy(5))).future().join();
            assertThat(a.usage().cachedTokens()).isPositive();
            assertThat(b.usage().cachedTokens()).isZero();
            assertThat(a.tokens()).containsExactly(b.tokens());
            assertThat(off.stats("s").prefixLookups()).isZero();
        }
    }

    @Test
    void cachedBlocksGiveWayWhenASequenceNeedsTheirRoom() throws Exception {
        try (Ladder l = Ladder.open(TestLadders.ladder(dir, "", ""))) {
            Tier t = l.tier("s");
            long perPos;
            try (var probe = t.model().newSequence(1)) {
                perPos = probe.cacheBytes();
            }
            int n = t.model().tokenizer().encode(SYSTEM + "x", true, false).length;
            // Room for one request's positions and little more: the next request must evict the cache.
            long budget = perPos * (n + 8) + perPos * PrefixCache.BLOCK;
            try (Router zero = Router.zeroShot(l); Scheduler s = Scheduler.open(l, zero, Scheduler.Options.defaults().withKvBudget("s", budget))) {
                s.submit(Request.of("s", SYSTEM + "x", greedy(8))).future().join();
                assertThat(s.stats("s").prefixCacheBytes()).isPositive().isLessThanOrEqualTo(budget);
                Result other = s.submit(Request.of("s", "zz" + "y".repeat(n - 8), greedy(8)))
                        .future().join();
                assertThat(other.tokens()).isNotNull();
                var stats = s.stats("s");
                assertThat(stats.kvBytesUsed() + stats.prefixCacheBytes()).isLessThanOrEqualTo(budget);
            }
        }
    }

    private static int commonPrefix(int[] a, int[] b) {
        int i = 0;
        while (i < a.length && i < b.length && a[i] == b[i]) i++;
        return i;
    }
}
