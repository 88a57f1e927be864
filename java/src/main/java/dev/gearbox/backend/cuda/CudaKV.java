package dev.gearbox.backend.cuda;

import dev.gearbox.backend.KVCache;

/**
 * A sequence's KV cache on a CUDA lane: one allocation holding, per layer, the keys then the
 * values as F32 {@code [capacity x kvDim]} arrays (row p = position p), plus the flash-decoding
 * workspace its single-token attention uses. Closing it goes through the lane, under its lock.
 */
final class CudaKV implements KVCache {
    final int layers, capacity, kvDim;
    final long base;
    long workspace, workspaceBytes;
    boolean closed;
    private final CudaBackend owner;

    CudaKV(CudaBackend owner, DeviceMemory mem, int layers, int capacity, int kvDim) {
        this.owner = owner;
        this.layers = layers;
        this.capacity = capacity;
        this.kvDim = kvDim;
        this.base = mem.malloc(bytes(), "KV cache of " + layers + " layers x " + capacity + " positions x " + kvDim);
    }

    long keys(int layer) { return base + (2L * layer) * capacity * kvDim * Float.BYTES; }

    long values(int layer) { return base + (2L * layer + 1) * capacity * kvDim * Float.BYTES; }

    @Override public int layers() { return layers; }
    @Override public int capacity() { return capacity; }
    @Override public int kvDim() { return kvDim; }
    @Override public long bytes() { return 2L * layers * capacity * kvDim * Float.BYTES; }

    @Override
    public void close() {
        owner.closeCache(this);
    }
}
