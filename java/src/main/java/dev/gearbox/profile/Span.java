package dev.gearbox.profile;

/**
 * One timed region: name, category, start/end ({@link System#nanoTime()}), the thread that ran it
 * and a few attributes (tier, lane, batch size, tokens, bytes moved, FLOPs, calls). Made by
 * {@link Profiler#start}; when profiling is off that returns {@link #NOOP}, whose setters do
 * nothing, so instrumented code never branches and never allocates.
 *
 * <p>Not thread-safe: a span belongs to the thread that started it until {@link #end()}.
 */
public class Span {
    /** The span handed out while profiling is off: every method is a no-op. */
    public static final Span NOOP = new Span() {
        @Override public Span tier(String t) { return this; }
        @Override public Span lane(int l) { return this; }
        @Override public Span batch(int b) { return this; }
        @Override public Span tokens(long t) { return this; }
        @Override public Span bytes(long b) { return this; }
        @Override public Span flops(long f) { return this; }
        @Override public Span request(String id) { return this; }
        @Override public Span detail(String d) { return this; }
        @Override public void end() { }
    };

    String name, category;
    long startNanos, endNanos;
    long threadId;
    String threadName;
    String tier, request, detail;
    int lane = -1, batch = -1, calls = 1;
    long tokens = -1, bytes = -1, flops = -1;
    Span parent;
    String track;           // a device's track (GPU kernels) instead of the thread's, or null
    Profiler.RangeSink pushed; // the sink this span pushed a named range to at its start, or null
    SpanEvent jfr;          // non-null while a JFR recording wants this span
    boolean record;         // goes to the profiler's buffer at end()

    private Span() { }

    Span(String name, String category, long startNanos, Span parent) {
        this.name = name;
        this.category = category;
        this.startNanos = startNanos;
        this.parent = parent;
        Thread t = Thread.currentThread();
        this.threadId = t.threadId();
        this.threadName = t.getName();
    }

    public Span tier(String t) { tier = t; return this; }
    public Span lane(int l) { lane = l; return this; }
    public Span batch(int b) { batch = b; return this; }
    public Span tokens(long t) { tokens = t; return this; }
    public Span bytes(long b) { bytes = b; return this; }
    public Span flops(long f) { flops = f; return this; }
    /** The request this span belongs to (queue waits and hops are drawn on the request's own track). */
    public Span request(String id) { request = id; return this; }
    public Span detail(String d) { detail = d; return this; }

    /** Closes the span now (once). */
    public void end() {
        endNanos = System.nanoTime();
        Profiler.finish(this);
    }

    public String name() { return name; }
    public String category() { return category; }
    public long startNanos() { return startNanos; }
    public long endNanos() { return endNanos; }
    public long durationNanos() { return endNanos - startNanos; }
    public long threadId() { return threadId; }
    public String threadName() { return threadName; }
    /** The tier: set on the span or inherited from the enclosing span. */
    public String tier() { return tier != null ? tier : parent != null ? parent.tier() : null; }
    public String requestId() { return request; }
    public String detail() { return detail; }
    public int lane() { return lane; }
    public int batch() { return batch; }
    public int calls() { return calls; }
    public long tokens() { return tokens; }
    public long bytes() { return bytes; }
    public long flops() { return flops; }
    /** The device track of a kernel span (e.g. "cuda:0 stream"), or null for spans of a thread. */
    public String track() { return track; }
    /** The span that was open on this thread when this one started, or null. */
    public Span parent() { return parent; }

    @Override
    public String toString() {
        return category + ":" + name + (tier() != null ? "@" + tier() : "") + " " + (endNanos - startNanos) / 1000 + "us";
    }
}
