package dev.gearbox.backend.cuda;

import dev.gearbox.backend.Backend;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.LongConsumer;

/**
 * The host side of a CUDA lane's step scope ({@link Backend#openStep}): whether the calls of the
 * open scope are recorded for a decode graph or launched at once, the one shape every
 * kernel-launching call takes ({@link #launch}), and when a recorded step is handed to the
 * {@link Launcher}. No CUDA in here, so the decisions are tested without a device
 * (CudaHostLogicTest).
 *
 * <p>A scope records exactly when it is a single-token step (one row: one sequence, one token),
 * graphs are on and the profiler is off (a profiled step times every kernel on its own). Outside
 * any scope, and in any other scope, every call launches at once. A recording ends early when a
 * result is needed ({@link #flush}: a read or a token choice), and the rest of the scope then
 * launches at once; closing the scope launches whatever is still recorded.
 */
final class StepRecorder {
    /** The kernel timer while the profiler is on, else null; asked only for calls launched at once. */
    interface Timing {
        KernelTimer timer();
    }

    /** Runs a recorded step on the device (DecodeGraphs), under the lane's lock. */
    interface Launcher {
        void launch(DecodeStep step);
    }

    private final boolean graphs;
    private final Timing timing;
    private final Launcher launcher;
    private final LongConsumer free;
    private final List<Long> retired = new ArrayList<>(); // freed once the recorded step naming them has run
    private final Object lock;
    // Held from open to close: a scope has its lane to itself, so two threads stepping sequences
    // of one lane take turns by step instead of mixing their calls into one recording.
    private final ReentrantLock stepLock = new ReentrantLock();
    private final Backend.StepScope scope = this::closeScope; // one per lane: opening a scope allocates nothing
    private boolean open;
    private DecodeStep step; // being recorded, or null

    /** {@code free}: frees device memory; {@code lock}: the lane's monitor, which every backend call holds. */
    StepRecorder(boolean graphs, Timing timing, Launcher launcher, LongConsumer free, Object lock) {
        this.graphs = graphs;
        this.timing = timing;
        this.launcher = launcher;
        this.free = free;
        this.lock = lock;
    }

    /** Whether a scope of {@code rows} token rows is recorded for a graph. */
    static boolean records(int rows, boolean graphs, boolean profiling) {
        return rows == 1 && graphs && !profiling;
    }

    /**
     * Opens a scope of {@code rows} token rows, one at a time per lane: waits while another
     * thread's scope is open. The scope must be closed by the thread that opened it.
     */
    Backend.StepScope open(int rows, boolean profiling) {
        stepLock.lock();
        try {
            synchronized (lock) {
                if (open) throw new IllegalStateException("a step scope is already open on this lane");
                open = true;
                step = records(rows, graphs, profiling) ? new DecodeStep() : null;
            }
        } catch (RuntimeException e) {
            stepLock.unlock();
            throw e;
        }
        return scope;
    }

    private void closeScope() {
        try {
            synchronized (lock) {
                open = false;
                flush();
            }
        } finally {
            stepLock.unlock();
        }
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

    /** A result is needed now: launches what was recorded so far; the rest of the scope launches at once. */
    void flush() {
        DecodeStep s = step;
        step = null;
        if (s == null) return;
        try {
            launcher.launch(s);
        } finally {
            for (long ptr : retired) free.accept(ptr);
            retired.clear();
        }
    }

    /** Frees device memory now, or, while a step is recorded that may still name it, once that step has run. */
    void retire(long ptr) {
        if (step != null) retired.add(ptr);
        else free.accept(ptr);
    }

    /** Drops a recording nobody will read (the lane is closing; its pool frees what was retired). */
    void drop() {
        step = null;
        retired.clear();
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
