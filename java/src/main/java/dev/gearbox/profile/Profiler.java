package dev.gearbox.profile;

import jdk.jfr.FlightRecorder;
import jdk.jfr.FlightRecorderListener;
import jdk.jfr.Recording;
import jdk.jfr.RecordingState;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * The span profiler. Off by default; while off, {@link #start} is one volatile read that returns
 * the shared {@link Span#NOOP}: no allocation, no clock read. It turns on for either of two
 * reasons: {@link #setRecording(boolean) recording} (spans collect in a lock-free queue for
 * {@code gearbox profile} / {@code bench --profile}), or a running JFR recording (each span is
 * also committed as a {@code dev.gearbox.Span} JFR event).
 *
 * <p>Spans nest per thread: a span's parent is the span open on the same thread when it started.
 */
public final class Profiler {
    private static volatile boolean active;      // recording || jfr: the one flag hot paths read
    private static volatile boolean recording;
    private static volatile boolean jfr;
    private static final ConcurrentLinkedQueue<Span> finished = new ConcurrentLinkedQueue<>();
    private static final ThreadLocal<Span> open = new ThreadLocal<>();

    static {
        // Follow JFR recordings started and stopped at any time (-XX:StartFlightRecording, jcmd, JMC).
        try {
            FlightRecorder.addListener(new FlightRecorderListener() {
                @Override
                public void recordingStateChanged(Recording r) {
                    refreshJfr();
                }
            });
            refreshJfr();
        } catch (RuntimeException | Error e) {
            jfr = false;   // JFR unavailable in this runtime: spans still work without it
        }
    }

    /**
     * Named ranges in another tool's timeline (NVTX for Nsight Systems): every span started on a
     * thread pushes its name there and pops it when it ends. Set by a backend that has such a tool.
     */
    public interface RangeSink {
        void push(String name);

        void pop();
    }

    private static volatile RangeSink rangeSink;
    private static final java.util.Map<String, Double> trackPeakBytesPerSecond = new java.util.concurrent.ConcurrentHashMap<>();

    private Profiler() { }

    /** Sends span names to {@code sink} as nested ranges from now on (null: none). */
    public static void setRangeSink(RangeSink sink) {
        rangeSink = sink;
    }

    /**
     * Records work timed on a device (a GPU kernel by CUDA events): drawn on {@code track}, under
     * the span open on this thread (so it inherits its tier), summed per name in the summary; no-op
     * while off. {@code bytes} and {@code flops} may be -1 (unknown).
     */
    public static void device(String name, String track, long startNanos, long endNanos, long bytes, long flops) {
        if (!active) return;
        Span s = new Span(name, "kernel", startNanos, open.get());
        s.endNanos = endNanos;
        s.track = track;
        s.bytes = bytes;
        s.flops = flops;
        s.record = recording;
        commit(s);
    }

    /** The memory bandwidth a device track can reach (bytes/s), for the summary's "of BW" column. */
    public static void setTrackPeakBandwidth(String track, double bytesPerSecond) {
        trackPeakBytesPerSecond.put(track, bytesPerSecond);
    }

    static double trackPeakBandwidth(String track) {
        return track == null ? 0 : trackPeakBytesPerSecond.getOrDefault(track, 0.0);
    }

    private static void refreshJfr() {
        boolean any = false;
        if (FlightRecorder.isInitialized()) {
            for (Recording r : FlightRecorder.getFlightRecorder().getRecordings()) {
                if (r.getState() == RecordingState.RUNNING) any = true;
            }
        }
        jfr = any;
        active = recording || jfr;
    }

    /** True while spans are wanted (recording or JFR); instrumented code reads this once per step to skip its clock reads. */
    public static boolean active() {
        return active;
    }

    /** Starts or stops collecting spans for {@link #drain()}. */
    public static void setRecording(boolean on) {
        recording = on;
        active = on || jfr;
    }

    public static boolean recording() {
        return recording;
    }

    /** Opens a span on this thread; {@link Span#NOOP} while profiling is off. */
    public static Span start(String name, String category) {
        if (!active) return Span.NOOP;
        Span parent = open.get();
        Span s = new Span(name, category, System.nanoTime(), parent);
        s.record = recording;
        if (jfr) {
            s.jfr = new SpanEvent();
            s.jfr.begin();
        }
        RangeSink sink = rangeSink;
        if (sink != null) {
            sink.push(name);
            s.pushed = sink;
        }
        open.set(s);
        return s;
    }

    /**
     * Records a span that already happened (queue waits measured across threads, per-step op
     * totals); no-op while off. The caller checks {@link #active()} first to skip its own clock reads.
     */
    public static Span record(String name, String category, long startNanos, long endNanos) {
        if (!active) return Span.NOOP;
        Span s = new Span(name, category, startNanos, open.get());
        s.endNanos = endNanos;
        s.record = recording;
        return s;
    }

    /** Commits a span made by {@link #record} once its attributes are set. */
    public static void commit(Span s) {
        if (s == Span.NOOP) return;
        if (s.record) finished.add(s);
        if (jfr) {
            SpanEvent e = new SpanEvent();
            if (e.shouldCommit()) {
                e.fill(s);
                e.commit();
            }
        }
    }

    /** Op totals of one forward pass: time, calls, bytes moved and FLOPs of one kind of operation. */
    static void op(String name, long startNanos, long nanos, int calls, long bytes, long flops) {
        Span s = new Span(name, "op", startNanos, open.get());
        s.endNanos = startNanos + nanos;
        s.calls = calls;
        s.bytes = bytes;
        s.flops = flops;
        s.record = recording;
        commit(s);
    }

    static void finish(Span s) {
        if (open.get() == s) open.set(s.parent);
        if (s.pushed != null) {
            s.pushed.pop();
            s.pushed = null;
        }
        if (s.record) finished.add(s);
        if (s.jfr != null) {
            s.jfr.fill(s);
            s.jfr.opNanos = 0;
            s.jfr.commit();
            s.jfr = null;
        }
    }

    /** Removes and returns every finished span collected so far. */
    public static List<Span> drain() {
        List<Span> out = new ArrayList<>();
        for (Span s; (s = finished.poll()) != null; ) out.add(s);
        return out;
    }
}
