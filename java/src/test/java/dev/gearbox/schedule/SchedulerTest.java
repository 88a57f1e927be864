package dev.gearbox.schedule;

import dev.gearbox.ladder.Ladder;
import dev.gearbox.ladder.TestLadders;
import dev.gearbox.router.Router;
import dev.gearbox.sample.SamplingParams;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The scheduler against small random tiers: same answers as one sequence at a time, batching, limits, cancellation, drain. */
class SchedulerTest {
    @TempDir
    static Path dir;
    static Ladder ladder;
    static SequentialLadder engine;

    static final List<String> PROMPTS = List.of("12+34=", "hello", "a much longer prompt than the others, for chunks", "x", "9*9=", "sort: dcba");

    @BeforeAll
    static void open() throws Exception {
        Path yaml = TestLadders.ladder(dir, ", streams: 1, max_sequences: 4",
                "ensemble: {enabled: true, tiers: [m, l], weights: [0.5, 0.5]}");
        ladder = Ladder.open(yaml);
        engine = new SequentialLadder(ladder, Router.zeroShot(ladder));
    }

    @AfterAll
    static void close() {
        engine.close();
        engine.router().close();
        ladder.close();
    }

    static SamplingParams greedy(int n) {
        return SamplingParams.builder().temperature(0).maxTokens(n).build();
    }

    static Scheduler sched(Scheduler.Options o) {
        return Scheduler.open(ladder, Router.zeroShot(ladder), o);
    }

    /** Blocks the lane thread in the listener until released: everything submitted meanwhile waits in the queue. */
    static final class Gate implements StreamListener {
        final CountDownLatch entered = new CountDownLatch(1), release = new CountDownLatch(1);
        final StringBuilder text = new StringBuilder();

        @Override public void onText(String piece) { text.append(piece); }

        @Override public void onToken(int token) {
            entered.countDown();
            try {
                release.await(20, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                throw new RuntimeException(e);
            }
        }
    }

    @Test
    void forcedTierAnswersAsOneSequenceAtATime() throws Exception {
        try (Scheduler s = sched(Scheduler.Options.defaults())) {
            for (String tier : List.of("s", "m", "l")) {
                SequentialLadder.Response want = engine.runTier(tier, "12+34=");
                Result got = s.submit(Request.of(tier, "12+34=", greedy(12))).future().get(20, TimeUnit.SECONDS);
                assertThat(got.tokens()).isEqualTo(want.tokens());
                assertThat(got.tier()).isEqualTo(tier);
                assertThat(got.decision().source()).isEqualTo("forced");
                assertThat(got.usage().completionTokens()).isEqualTo(want.tokens().length);
                assertThat(got.usage().promptTokens()).isEqualTo(ladder.tier(tier).model().tokenizer().encode("12+34=", true, false).length);
                assertThat(got.hops()).extracting(h -> h.tier()).containsExactly(tier);
                assertThat(got.timings().firstTokenNanos()).isPositive();
            }
        }
    }

    @Test
    void concurrentRequestsStepTogetherAndMatchSoloAnswers() throws Exception {
        try (Scheduler s = sched(Scheduler.Options.defaults().withPrefillChunk(8))) {
            Gate gate = new Gate();
            RequestHandle first = s.submit(Request.of("s", "first", greedy(12)).withListener(gate));
            assertThat(gate.entered.await(20, TimeUnit.SECONDS)).isTrue();
            List<RequestHandle> hs = new ArrayList<>();
            for (String p : PROMPTS) hs.add(s.submit(Request.of("s", p, greedy(6 + p.length() % 7))));
            assertThat(s.stats("s").queued()).isEqualTo(PROMPTS.size());
            gate.release.countDown();
            first.future().get(20, TimeUnit.SECONDS);
            for (int i = 0; i < hs.size(); i++) {
                Result r = hs.get(i).future().get(20, TimeUnit.SECONDS);
                int n = 6 + PROMPTS.get(i).length() % 7;
                SequentialLadder.Response want = engine.execute(PROMPTS.get(i), dev.gearbox.router.Decision.forced(ladder.tierNames(), "s"),
                        new SequentialLadder.Options(null, n, false));
                assertThat(r.tokens()).as(PROMPTS.get(i)).isEqualTo(want.tokens());
            }
            var st = s.stats("s");
            // 4 slots: the queued requests joined the running one, several sequences per step.
            assertThat(st.sequenceSteps()).isGreaterThan(st.steps());
            assertThat(st.running()).isZero();
            assertThat(st.kvBytesUsed()).isZero();
        }
    }

    @Test
    void longPromptIsPrefilledInChunks() throws Exception {
        String prompt = "a prompt of forty-odd characters, chunked in eights";
        int promptTokens = ladder.tier("m").model().tokenizer().encode(prompt, true, false).length;
        try (Scheduler chunked = sched(Scheduler.Options.defaults().withPrefillChunk(8))) {
            Result r = chunked.submit(Request.of("m", prompt, greedy(5))).future().get(20, TimeUnit.SECONDS);
            SequentialLadder.Response want = engine.execute(prompt, dev.gearbox.router.Decision.forced(ladder.tierNames(), "m"),
                    new SequentialLadder.Options(null, 5, false));
            assertThat(r.tokens()).isEqualTo(want.tokens());
            // ceil(prompt / 8) prefill steps, then one step per answer token after the first
            long expected = (promptTokens + 7) / 8 + r.tokens().length - 1;
            assertThat(chunked.stats("m").steps()).isEqualTo(expected);
        }
    }

    @Test
    void fullQueueThrowsWithRetryHint() throws Exception {
        try (Scheduler s = sched(Scheduler.Options.defaults().withQueueCapacity(1))) {
            Gate gate = new Gate();
            RequestHandle running = s.submit(Request.of("l", "hi", greedy(3)).withListener(gate));
            assertThat(gate.entered.await(20, TimeUnit.SECONDS)).isTrue();
            // tier l has one lane, 4 slots: the blocked lane admits nothing more, so one request fills the queue
            RequestHandle queued = s.submit(Request.of("l", "b", greedy(3)));
            assertThatThrownBy(() -> s.submit(Request.of("l", "c", greedy(3))))
                    .isInstanceOfSatisfying(QueueFullException.class, e -> {
                        assertThat(e.retryAfterSeconds()).isBetween(1, 60);
                        assertThat(e.tier()).isEqualTo("l");
                        assertThat(e.getMessage()).contains("queue is full");
                    });
            // other tiers still take requests
            assertThat(s.submit(Request.of("s", "c", greedy(2))).future().get(20, TimeUnit.SECONDS).tokens()).hasSize(2);
            gate.release.countDown();
            running.future().get(20, TimeUnit.SECONDS);
            queued.future().get(20, TimeUnit.SECONDS);
        }
    }

    @Test
    void cancellingFreesSlotAndCache() throws Exception {
        try (Scheduler s = sched(Scheduler.Options.defaults())) {
            Gate gate = new Gate();
            RequestHandle running = s.submit(Request.of("m", "hi", greedy(50)).withListener(gate));
            assertThat(gate.entered.await(20, TimeUnit.SECONDS)).isTrue();
            RequestHandle queued = s.submit(Request.of("m", "queued", greedy(50)));
            var busy = s.stats("m");
            assertThat(busy.running()).isEqualTo(1);
            assertThat(busy.kvBytesUsed()).isEqualTo(busy.bytesPerPosition() * (ladder.tier("m").model().tokenizer().encode("hi", true, false).length + 50));
            queued.cancel();
            running.cancel();
            gate.release.countDown();
            assertThatThrownBy(() -> running.future().join()).hasCauseInstanceOf(RequestCancelledException.class);
            assertThatThrownBy(() -> queued.future().join()).hasCauseInstanceOf(RequestCancelledException.class);
            var idle = s.stats("m");
            assertThat(idle.running()).isZero();
            assertThat(idle.kvBytesUsed()).isZero();
            assertThat(idle.queued()).isZero();
            assertThat(s.inFlight()).isZero();
            // a passed deadline cancels too
            RequestHandle late = s.submit(Request.of("m", "late", greedy(5)).withDeadline(Instant.now().minusSeconds(1)));
            assertThatThrownBy(() -> late.future().join()).cause().isInstanceOfSatisfying(RequestCancelledException.class,
                    e -> assertThat(e.reason()).isEqualTo(RequestCancelledException.Cause.DEADLINE));
            // cancelling the future works like cancel()
            Gate g2 = new Gate();
            RequestHandle h = s.submit(Request.of("m", "hi", greedy(50)).withListener(g2));
            assertThat(g2.entered.await(20, TimeUnit.SECONDS)).isTrue();
            h.future().cancel(true);
            g2.release.countDown();
            s.close(Duration.ofSeconds(20));
            assertThat(s.stats("m").kvBytesUsed()).isZero();
            assertThat(s.stats("m").running()).isZero();
        }
    }

    @Test
    void kvBudgetRefusesWhatCanNeverFitAndQueuesWhatCanLater() throws Exception {
        long perPos = TierExecutor.bytesPerPosition(ladder.tier("s").model().config());
        int promptLen = ladder.tier("s").model().tokenizer().encode("ab", true, false).length;
        try (var probe = ladder.tier("s").model().newSequence(7)) {
            assertThat(probe.cacheBytes()).isEqualTo(7 * perPos);   // accounting = what the backend allocates
        }
        long oneRequest = perPos * (promptLen + 10);
        try (Scheduler s = sched(Scheduler.Options.defaults().withKvBudget("s", oneRequest))) {
            assertThatThrownBy(() -> s.submit(Request.of("s", "ab", greedy(11))))
                    .isInstanceOf(CapacityException.class)
                    .hasMessageContaining("needs " + (oneRequest + perPos) + " bytes of KV cache on tier 's'")
                    .hasMessageContaining("KV budget is " + oneRequest + " bytes");
            assertThatThrownBy(() -> s.submit(Request.of("s", "z".repeat(200), greedy(1))))
                    .isInstanceOf(CapacityException.class).hasMessageContaining("too long for tier 's' (context 128");
            // two that fit only one at a time: the second waits, both finish
            RequestHandle a = s.submit(Request.of("s", "ab", greedy(10)));
            RequestHandle b = s.submit(Request.of("s", "ab", greedy(10)));
            assertThat(a.future().get(20, TimeUnit.SECONDS).tokens()).isEqualTo(b.future().get(20, TimeUnit.SECONDS).tokens());
            assertThat(s.stats("s").kvBytesUsed()).isZero();
        }
    }

    @Test
    void closeDrainsRequestsInFlight() throws Exception {
        Scheduler s = sched(Scheduler.Options.defaults());
        List<RequestHandle> hs = new ArrayList<>();
        for (String p : PROMPTS) hs.add(s.submit(Request.of(p.length() % 2 == 0 ? "s" : "l", p, greedy(8))));
        hs.add(s.submit(Request.of("ensemble", "12+34=", greedy(4))));
        s.close();
        for (RequestHandle h : hs) assertThat(h.future()).isCompleted().isNotCompletedExceptionally();
        assertThatThrownBy(() -> s.submit(Request.of("s", "x", greedy(1)))).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("shutting down");
    }

    @Test
    void streamedTextIsTheResultAndStopStringsCut() throws Exception {
        try (Scheduler s = sched(Scheduler.Options.defaults())) {
            Result full = s.submit(Request.of("l", "hello", greedy(12))).future().get(20, TimeUnit.SECONDS);
            assertThat(full.text()).hasSizeGreaterThan(3);
            String stop = full.text().substring(2, 4);
            StringBuilder streamed = new StringBuilder();
            SamplingParams p = SamplingParams.builder().temperature(0).maxTokens(12).stop(List.of(stop)).build();
            Result cut = s.submit(Request.of("l", "hello", p).withListener(streamed::append)).future().get(20, TimeUnit.SECONDS);
            assertThat(cut.text()).isEqualTo(full.text().substring(0, full.text().indexOf(stop)));
            assertThat(streamed.toString()).isEqualTo(cut.text());
            assertThat(cut.finishReason()).isEqualTo("stop");
            assertThat(full.finishReason()).isIn("length", "stop");
        }
    }

    @Test
    void autoRoutesAndEscalatesLikeTheEngine() throws Exception {
        Path d2 = dir.resolve("esc");
        java.nio.file.Files.createDirectories(d2);
        // every watched tier escalates (log-probabilities are below 0): s -> m -> l, keeping the partial answer
        Path yaml = TestLadders.ladder(d2, ", escalate: {window: 2, min_mean_logprob: 0.0}", "");
        try (Ladder lad = Ladder.open(yaml); Router router = Router.zeroShot(lad);
             SequentialLadder eng = new SequentialLadder(lad, router);
             Scheduler s = Scheduler.open(lad, Router.zeroShot(lad), Scheduler.Options.defaults())) {
            for (String prompt : List.of("1+1=", "hello world")) {
                SequentialLadder.Response want = eng.run(prompt, new SequentialLadder.Options(null, 8, true));
                StringBuilder streamed = new StringBuilder();
                Result got = s.submit(Request.of("auto", prompt, greedy(8)).withListener(streamed::append)).future().get(20, TimeUnit.SECONDS);
                assertThat(got.tokens()).isEqualTo(want.tokens());
                assertThat(got.tier()).isEqualTo(want.finalTier());
                assertThat(got.hops()).extracting(h -> h.tier()).isEqualTo(want.hops().stream().map(h -> h.tier()).toList());
                assertThat(got.decision().source()).isEqualTo("zero-shot");
                assertThat(streamed.toString()).isEqualTo(got.text());
            }
        }
    }

    @Test
    void ensembleMatchesTheEngineAndHoldsSlotsInEachMember() throws Exception {
        try (Scheduler s = sched(Scheduler.Options.defaults())) {
            SequentialLadder.Response want = engine.execute("12+34=", dev.gearbox.router.Decision.forced(ladder.tierNames(), "ensemble"),
                    new SequentialLadder.Options(null, 6, false));
            Gate gate = new Gate();
            RequestHandle h = s.submit(Request.of("ensemble", "12+34=", greedy(6)).withListener(gate));
            assertThat(gate.entered.await(20, TimeUnit.SECONDS)).isTrue();
            assertThat(s.stats("m").running()).isEqualTo(1);
            assertThat(s.stats("l").running()).isEqualTo(1);
            assertThat(s.stats("m").kvBytesUsed()).isPositive();
            gate.release.countDown();
            Result r = h.future().get(20, TimeUnit.SECONDS);
            assertThat(r.tokens()).isEqualTo(want.tokens());
            assertThat(r.tier()).isEqualTo("ensemble");
            assertThat(s.stats("m").running()).isZero();
            assertThat(s.stats("l").kvBytesUsed()).isZero();
        }
    }

    @Test
    void badRequestsAreClearErrors() {
        try (Scheduler s = sched(Scheduler.Options.defaults())) {
            assertThatThrownBy(() -> s.submit(Request.of("xl", "hi", greedy(1)))).isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("unknown model 'xl'").hasMessageContaining("auto, s, m, l, ensemble");
            assertThatThrownBy(() -> s.submit(Request.ofTokens("s", new int[] {1, 9999}, greedy(1))))
                    .hasMessageContaining("outside the vocabulary");
            assertThatThrownBy(() -> new Request(null, null, "s", null, null, null)).hasMessageContaining("exactly one");
            Result r = s.submit(Request.ofTokens("s", new int[] {1, 40, 41}, greedy(0))).future().join();
            assertThat(r.tokens()).isEmpty();
            assertThat(r.finishReason()).isEqualTo("length");
        }
    }

    @Test
    void closeWithTimeoutCancelsWhatIsLeftAndFreesEverything() throws Exception {
        Scheduler s = sched(Scheduler.Options.defaults());
        Gate gate = new Gate();
        RequestHandle stuck = s.submit(Request.of("m", "hi", greedy(50)).withListener(gate));
        assertThat(gate.entered.await(20, TimeUnit.SECONDS)).isTrue();
        RequestHandle waiting = s.submit(Request.of("ensemble", "hi", greedy(3)));
        Thread closer = Thread.ofPlatform().start(() -> s.close(Duration.ofMillis(100)));
        while (!waiting.future().isDone() && closer.isAlive()) Thread.sleep(10);
        gate.release.countDown();
        closer.join(20_000);
        assertThat(closer.isAlive()).isFalse();
        assertThatThrownBy(() -> stuck.future().join()).cause().isInstanceOfSatisfying(RequestCancelledException.class,
                e -> assertThat(e.reason()).isEqualTo(RequestCancelledException.Cause.SHUTDOWN));
        assertThat(waiting.future()).isDone();   // finished or cancelled, depending on how far it got in 100 ms
        for (var st : s.stats()) {
            assertThat(st.running()).as(st.tier()).isZero();
            assertThat(st.kvBytesUsed()).as(st.tier()).isZero();
        }
        assertThat(s.inFlight()).isZero();
    }

    @Test
    void aThrowingListenerCancelsItsRequestOnly() throws Exception {
        try (Scheduler s = sched(Scheduler.Options.defaults())) {
            RequestHandle bad = s.submit(Request.of("s", "hello", greedy(10)).withListener(piece -> {
                throw new IllegalStateException("client went away");
            }));
            RequestHandle good = s.submit(Request.of("s", "hello", greedy(10)));
            assertThatThrownBy(() -> bad.future().join()).cause().isInstanceOfSatisfying(RequestCancelledException.class,
                    e -> assertThat(e.reason()).isEqualTo(RequestCancelledException.Cause.LISTENER_FAILED));
            assertThat(good.future().get(20, TimeUnit.SECONDS).tokens()).isNotEmpty();
            assertThat(s.stats("s").kvBytesUsed()).isZero();
        }
    }

    @Test
    void severalLanesPerTierGiveTheSameAnswers() throws Exception {
        Path d3 = dir.resolve("lanes");
        java.nio.file.Files.createDirectories(d3);
        Path yaml = TestLadders.ladder(d3, ", streams: 3, max_sequences: 5", "");
        try (Ladder lad = Ladder.open(yaml); Scheduler s = Scheduler.open(lad, Router.zeroShot(lad), Scheduler.Options.defaults())) {
            assertThat(s.executor("s").lanes).isEqualTo(3);
            assertThat(s.executor("s").laneCapacity).isEqualTo(2);
            List<RequestHandle> hs = new ArrayList<>();
            for (int i = 0; i < 15; i++) hs.add(s.submit(Request.of("s", PROMPTS.get(i % PROMPTS.size()), greedy(4 + i % 5))));
            for (int i = 0; i < hs.size(); i++) {
                String p = PROMPTS.get(i % PROMPTS.size());
                SequentialLadder.Response want = engine.execute(p, dev.gearbox.router.Decision.forced(ladder.tierNames(), "s"),
                        new SequentialLadder.Options(null, 4 + i % 5, false));
                assertThat(hs.get(i).future().get(20, TimeUnit.SECONDS).tokens()).as(p).isEqualTo(want.tokens());
            }
            assertThat(s.stats("s").running()).isZero();
        }
    }
}
