package dev.gearbox.backend.cuda;

import dev.gearbox.backend.KVCache;

/**
 * A sequence's KV cache on a CUDA lane: one allocation holding, per layer, the keys then the
 * values as F32 {@code [capacity x kvDim]} arrays (row p = position p), plus the flash-decoding
 * workspace its single-token attention uses. Used under the lane's lock ({@code lane}).
 */
final class CudaKV implements KVCache {
    final int layers, capacity, kvDim;
    final long base;
    private final Object lane;
    private final int ordinal;
    private final DeviceMemory mem;
    private final StepRecorder rec;
    private long workspace, workspaceBytes;
    private boolean closed;

    CudaKV(Object lane, int ordinal, DeviceMemory mem, StepRecorder rec, int layers, int capacity, int kvDim) {
        this.lane = lane;
        this.ordinal = ordinal;
        this.mem = mem;
        this.rec = rec;
        this.layers = layers;
        this.capacity = capacity;
        this.kvDim = kvDim;
        this.base = mem.malloc(bytes(), "KV cache of " + layers + " layers x " + capacity + " positions x " + kvDim);
    }

    long keys(int layer) { return base + (2L * layer) * capacity * kvDim * Float.BYTES; }

    long values(int layer) { return base + (2L * layer + 1) * capacity * kvDim * Float.BYTES; }

    /**
     * The single-token attention workspace of at least {@code bytes}, grown as needed; a smaller
     * one a recorded step may still name is freed after that step runs.
     */
    long workspace(long bytes) {
        if (bytes > workspaceBytes) {
            if (workspace != 0) rec.retire(workspace);
            workspace = mem.malloc(bytes, "attention workspace");
            workspaceBytes = bytes;
        }
        return workspace;
    }

    @Override public int layers() { return layers; }
    @Override public int capacity() { return capacity; }
    @Override public int kvDim() { return kvDim; }
    @Override public long bytes() { return 2L * layers * capacity * kvDim * Float.BYTES; }

    /** Frees the cache; a recorded step may write it, so that step runs before the memory goes. A closed lane already freed it. */
    @Override
    public void close() {
        synchronized (lane) {
            if (closed || !mem.holds(base)) return;
            closed = true;
            CudaRuntime.use(ordinal);
            rec.flush();
            mem.free(base);
            if (workspace != 0) mem.free(workspace);
        }
    }
}
