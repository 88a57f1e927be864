package dev.gearbox.profile;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class ProfilerTest {
    @AfterEach
    void off() {
        Profiler.setRecording(false);
        Profiler.setRangeSink(null);
        Profiler.drain();
    }

    private static void instrumented(int i) {
        Span s = Profiler.start("decode", "step").tier("s").lane(0).batch(i & 7).tokens(i).bytes(i * 4L).flops(i * 2L);
        Span inner = Profiler.start("inner", "op");
        inner.end();
        s.end();
    }

    @Test
    void offRecordsNothingAndAllocatesNothingPerCall() {
        Profiler.setRecording(false);
        assumeTrue(!Profiler.active(), "a JFR recording is running in this JVM");
        Profiler.drain();
        assertThat(Profiler.start("x", "step")).isSameAs(Span.NOOP);
        assertThat(Profiler.record("q", "queue", 1, 2)).isSameAs(Span.NOOP);
        for (int i = 0; i < 20_000; i++) instrumented(i);   // warm up: compiled code, as in a long run
        var mx = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
        long tid = Thread.currentThread().threadId();
        long before = mx.getThreadAllocatedBytes(tid);
        int calls = 100_000;
        for (int i = 0; i < calls; i++) instrumented(i);
        long allocated = mx.getThreadAllocatedBytes(tid) - before;
        // A span object alone is > 64 bytes; two per call would be > 12 MB. Allow a little for the bean itself.
        assertThat(allocated).isLessThan(64 * 1024);
        assertThat(Profiler.drain()).isEmpty();
    }

    @Test
    void onSpansNestAndCarryAttributes() {
        Profiler.setRecording(true);
        Span outer = Profiler.start("decode", "step").tier("m").lane(1).batch(3).tokens(3);
        Span inner = Profiler.start("matmul", "op").bytes(4096).flops(8192);
        inner.end();
        outer.end();
        Span after = Profiler.start("next", "step");
        after.end();
        List<Span> spans = Profiler.drain();
        assertThat(spans).extracting(Span::name).containsExactly("matmul", "decode", "next");
        Span in = spans.get(0), out = spans.get(1);
        assertThat(in.parent()).isSameAs(out);
        assertThat(in.tier()).isEqualTo("m");          // inherited from the enclosing step
        assertThat(in.bytes()).isEqualTo(4096);
        assertThat(in.flops()).isEqualTo(8192);
        assertThat(out.lane()).isEqualTo(1);
        assertThat(out.batch()).isEqualTo(3);
        assertThat(out.tokens()).isEqualTo(3);
        assertThat(in.startNanos()).isGreaterThanOrEqualTo(out.startNanos());
        assertThat(in.endNanos()).isLessThanOrEqualTo(out.endNanos());
        assertThat(spans.get(2).parent()).isNull();    // the stack unwound
        assertThat(out.threadName()).isEqualTo(Thread.currentThread().getName());
    }

    @Test
    void spansFromOtherThreadsAreCollected() throws Exception {
        Profiler.setRecording(true);
        Thread t = Thread.ofPlatform().name("worker-x").start(() -> Profiler.start("w", "step").tier("l").end());
        t.join();
        List<Span> spans = Profiler.drain();
        assertThat(spans).singleElement().satisfies(s -> {
            assertThat(s.threadName()).isEqualTo("worker-x");
            assertThat(s.parent()).isNull();
        });
    }

    @Test
    void opMeterEmitsOneSpanPerKindUnderTheStep() {
        Profiler.setRecording(true);
        Span step = Profiler.start("prefill", "step").tier("s");
        OpMeter m = new OpMeter();
        m.begin();
        m.attention(4, 10, 64, 512);
        m.other();
        m.emit();
        step.end();
        List<Span> spans = Profiler.drain();
        assertThat(spans).extracting(Span::name).containsExactly("attention", "other", "prefill");
        Span att = spans.get(0);
        assertThat(att.category()).isEqualTo("op");
        assertThat(att.parent()).isSameAs(spans.get(2));
        assertThat(att.tier()).isEqualTo("s");
        assertThat(att.flops()).isEqualTo(4L * 64 * 4 * 14);
        assertThat(att.bytes()).isEqualTo(512L * 14 + 8L * 4 * 64);
        assertThat(spans.get(1).calls()).isEqualTo(2);   // the explicit lap and the remainder at emit
    }

    @Test
    void traceJsonHasCompleteEventsWithTheRequiredFields() throws Exception {
        Profiler.setRecording(true);
        Span step = Profiler.start("decode", "step").tier("s").lane(0).batch(2).tokens(2);
        Profiler.start("inner", "op").end();
        step.end();
        long now = System.nanoTime();
        Profiler.commit(Profiler.record("queue_wait", "queue", now - 5_000_000, now).tier("s").request("req-1"));
        List<Span> spans = Profiler.drain();
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        TraceWriter.write(spans, bytes);
        JsonNode root = new ObjectMapper().readTree(bytes.toByteArray());
        JsonNode events = root.get("traceEvents");
        assertThat(events.isArray()).isTrue();
        int complete = 0;
        for (JsonNode e : events) {
            assertThat(e.has("ph")).isTrue();
            assertThat(e.get("pid").isInt()).isTrue();
            if (!e.get("ph").asText().equals("X")) continue;
            complete++;
            for (String f : List.of("name", "cat", "tid", "ts", "dur", "args")) assertThat(e.has(f)).as(f).isTrue();
            assertThat(e.get("dur").asDouble()).isGreaterThanOrEqualTo(0);
            assertThat(e.get("ts").asDouble()).isGreaterThanOrEqualTo(0);
        }
        assertThat(complete).isEqualTo(3);
        JsonNode decode = find(events, "decode"), queue = find(events, "queue_wait");
        assertThat(decode.get("args").get("tier").asText()).isEqualTo("s");
        assertThat(decode.get("args").get("batch").asInt()).isEqualTo(2);
        assertThat(queue.get("dur").asDouble()).isEqualTo(5000.0);          // microseconds
        assertThat(queue.get("args").get("request").asText()).isEqualTo("req-1");
        assertThat(queue.get("tid").asInt()).isNotEqualTo(decode.get("tid").asInt());   // the request's own track
        assertThat(find(events, "inner").get("tid").asInt()).isNotEqualTo(decode.get("tid").asInt()); // op totals on the ops track
        boolean named = false;
        for (JsonNode e : events) if (e.get("ph").asText().equals("M") && e.get("args").get("name").asText().equals("request req-1")) named = true;
        assertThat(named).isTrue();
    }

    private static JsonNode find(JsonNode events, String name) {
        for (JsonNode e : events) if (e.has("name") && e.get("name").asText().equals(name) && e.get("ph").asText().equals("X")) return e;
        throw new AssertionError("no event " + name);
    }

    @Test
    void spansOpenAndCloseNamedRangesInARangeSink() {
        List<String> calls = new java.util.ArrayList<>();
        Profiler.setRangeSink(new Profiler.RangeSink() {
            @Override public void push(String name) { calls.add("push " + name); }
            @Override public void pop() { calls.add("pop"); }
        });
        Profiler.setRecording(true);
        Span step = Profiler.start("decode", "step").tier("s");
        Span fwd = Profiler.start("forward_decode", "forward");
        long now = System.nanoTime();
        Profiler.commit(Profiler.record("queue_wait", "queue", now - 1000, now)); // already happened: no range
        fwd.end();
        step.end();
        assertThat(calls).containsExactly("push decode", "push forward_decode", "pop", "pop");
        Profiler.setRecording(false);
        Profiler.start("off", "step").end();
        assertThat(calls).hasSize(4); // off: no ranges either
    }

    @Test
    void deviceKernelsGoOnTheirTrackAndIntoTheSummaryAgainstTheCardsBandwidth() throws Exception {
        Profiler.setRecording(true);
        Profiler.setTrackPeakBandwidth("cuda:0 stream", 4.0e12);
        Span step = Profiler.start("decode", "step").tier("l").batch(1).tokens(1);
        long t = System.nanoTime();
        // 2 GB in 1 ms = 2 TB/s, half the track's peak; 4 GFLOP in 1 ms = 4000 GFLOP/s
        Profiler.device("matvec", "cuda:0 stream", t, t + 1_000_000, 2_000_000_000L, 4_000_000_000L);
        Profiler.device("matvec", "cuda:0 stream", t + 1_000_000, t + 2_000_000, 2_000_000_000L, 4_000_000_000L);
        Profiler.device("rms_norm", "cuda:0 stream", t + 2_000_000, t + 2_010_000, -1, -1);
        step.end();
        List<Span> spans = Profiler.drain();
        Span k = spans.stream().filter(x -> x.name().equals("matvec")).findFirst().orElseThrow();
        assertThat(k.category()).isEqualTo("kernel");
        assertThat(k.tier()).isEqualTo("l");          // under the step it ran in
        assertThat(k.track()).isEqualTo("cuda:0 stream");

        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        TraceWriter.write(spans, bytes);
        JsonNode events = new ObjectMapper().readTree(bytes.toByteArray()).get("traceEvents");
        assertThat(find(events, "matvec").get("tid").asInt()).isNotEqualTo(find(events, "decode").get("tid").asInt());
        boolean named = false;
        for (JsonNode e : events) if (e.get("ph").asText().equals("M") && e.get("args").get("name").asText().equals("cuda:0 stream")) named = true;
        assertThat(named).isTrue();

        String summary = ProfileSummary.format(spans, null);
        assertThat(summary).contains("Per GPU kernel");
        String row = summary.lines().filter(l -> l.contains("matvec")).findFirst().orElseThrow();
        assertThat(row).contains(" 2 ").contains("2.000").contains("2000.0").contains("50%").contains("4000.0");
        assertThat(summary.lines().filter(l -> l.contains("rms_norm")).findFirst().orElseThrow()).contains("0.010");
    }
}
