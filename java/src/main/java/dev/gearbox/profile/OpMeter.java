package dev.gearbox.profile;

import dev.gearbox.gguf.TensorInfo;

/**
 * Coarse per-op accounting inside one forward pass: the time between successive laps goes to
 * matmul, attention or "other" (norms, rope, KV stores, copies), with bytes moved and FLOPs
 * computed from the shapes. At {@link #emit()} each kind becomes one "op" span under the step's
 * span (one span per kind per step, not per call, so profiling stays cheap). Reused across steps;
 * callers guard every call with one boolean read at the step's start, so nothing runs while off.
 */
public final class OpMeter {
    private long stepStart, last;
    private long mmNanos, mmBytes, mmFlops, attNanos, attBytes, attFlops, otherNanos;
    private int mmCalls, attCalls, otherCalls;

    /** Starts a forward pass. */
    public void begin() {
        stepStart = last = System.nanoTime();
        mmNanos = mmBytes = mmFlops = attNanos = attBytes = attFlops = otherNanos = 0;
        mmCalls = attCalls = otherCalls = 0;
    }

    private long lap() {
        long now = System.nanoTime(), d = now - last;
        last = now;
        return d;
    }

    /** The time since the last lap was element-wise work (norms, rope, adds, copies, KV stores). */
    public void other() {
        otherNanos += lap();
        otherCalls++;
    }

    /**
     * The time since the last lap was the weight {@code w} (as the GGUF file describes it, so the
     * profiler needs no backend) times {@code rows} activation rows.
     */
    public void matmul(TensorInfo w, int rows) {
        mmNanos += lap();
        mmCalls++;
        long[] shape = w.shape();
        long in = shape[0], out = shape.length > 1 ? shape[1] : 1;
        mmBytes += w.byteSize() + 4L * rows * (in + out);
        mmFlops += 2L * rows * in * out;
    }

    /**
     * The time since the last lap was attention of {@code n} query rows at positions
     * [pos0, pos0+n) over a cache of {@code bytesPerPosition} bytes per position (this layer).
     */
    public void attention(int n, int pos0, int qDim, long bytesPerPosition) {
        attNanos += lap();
        attCalls++;
        long ctx = pos0 + n;
        attBytes += bytesPerPosition * ctx + 8L * n * qDim;
        attFlops += 4L * qDim * n * ctx;   // QK^T and the weighted sum of V, 2 FLOPs a multiply-add each
    }

    /** Closes the pass: any time left goes to "other", then one op span per kind. */
    public void emit() {
        other();
        if (mmCalls > 0) Profiler.op("matmul", stepStart, mmNanos, mmCalls, mmBytes, mmFlops);
        if (attCalls > 0) Profiler.op("attention", stepStart, attNanos, attCalls, attBytes, attFlops);
        Profiler.op("other", stepStart, otherNanos, otherCalls, -1, -1);
    }
}
