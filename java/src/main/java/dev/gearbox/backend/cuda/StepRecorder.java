package dev.gearbox.backend.cuda;

/**
 * The host side of a CUDA lane's step scope ({@link dev.gearbox.backend.Backend#openStep}): whether
 * the calls of the open scope are recorded for a decode graph or launched at once, and the one
 * shape every kernel-launching call takes ({@link #launch}). No CUDA in here, so the decisions are
 * tested without a device (CudaHostLogicTest).
 *
 * <p>A scope records exactly when it is a single-token step (one row: one sequence, one token),
 * graphs are on and the profiler is off (a profiled step times every kernel on its own). Outside
 * any scope, and in any other scope, every call launches at once. A recording ends early when a
 * result is needed ({@link #take}: a read or a token choice), and the rest of the scope then
 * launches at once; {@link #close} hands over whatever is still recorded.
 */
final class StepRecorder {
    /** The kernel timer while the profiler is on, else null; asked only for calls launched at once. */
    interface Timing {
        KernelTimer timer();
    }

    private final boolean graphs;
    private final Timing timing;
    private boolean open;
    private DecodeStep step; // being recorded, or null

    StepRecorder(boolean graphs, Timing timing) {
        this.graphs = graphs;
        this.timing = timing;
    }

    /** Whether a scope of {@code rows} token rows is recorded for a graph. */
    static boolean records(int rows, boolean graphs, boolean profiling) {
        return rows == 1 && graphs && !profiling;
    }

    /** Opens a scope of {@code rows} token rows; one at a time. */
    void open(int rows, boolean profiling) {
        if (rows < 1) throw new IllegalArgumentException("a step needs at least one row, got " + rows);
        if (open) throw new IllegalStateException("a step scope is already open on this lane");
        open = true;
        step = records(rows, graphs, profiling) ? new DecodeStep() : null;
    }

    boolean isOpen() { return open; }

    /** True while the calls of the open scope are being recorded. */
    boolean recording() { return step != null; }

    /** The step being recorded; only while {@link #recording}. */
    DecodeStep step() { return step; }

    /** Notes the position a recorded call works at (nothing when launching at once). */
    void position(int pos0) {
        if (step != null) step.position(pos0);
    }

    /** Ends the recording because a result is needed now: the step to launch, or null. The scope stays open, unrecorded. */
    DecodeStep take() {
        DecodeStep s = step;
        step = null;
        return s;
    }

    /** Closes the scope: the step still recorded (to launch), or null. */
    DecodeStep close() {
        open = false;
        return take();
    }

    /**
     * The one shape of every kernel-launching call: recorded into the step with its launch
     * arguments {@code signature} (an op code first) while recording, else launched now, timed as
     * {@code name} with {@code bytes} moved and {@code flops} done while the profiler is on.
     *
     * <p>Each call site builds a lambda and a varargs array, on either path. That is deliberate:
     * the alternative is the record-or-time-or-launch branch written out in every op (as it was).
     * Two small short-lived objects cost tens of nanoseconds of allocation, against the several
     * microseconds a kernel launch costs the CUDA driver; and in graph replay, where launches are
     * cheapest, a step's few hundred recorded calls allocate a few microseconds' worth, small
     * against the device time of the step they stand for. Not measured (no GPU on the machine this
     * was written on); the CPU backend never comes through this path.
     */
    void launch(String name, long bytes, long flops, DecodeStep.Op op, long... signature) {
        if (step != null) {
            step.add(op, signature);
            return;
        }
        KernelTimer t = timing.timer();
        if (t != null) t.begin(name, bytes, flops);
        try {
            op.run(false);
        } finally {
            if (t != null) t.end();
        }
    }
}
