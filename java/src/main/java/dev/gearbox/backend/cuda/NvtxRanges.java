package dev.gearbox.backend.cuda;

import dev.gearbox.profile.Profiler;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Profiler spans as NVTX ranges, so Nsight Systems (nsys profile) shows gatekeeper, queue, step
 * and forward spans with the same names above the CUDA kernels they launched. Span names are a
 * small fixed set, so each name's C string is made once and kept.
 */
final class NvtxRanges implements Profiler.RangeSink {
    private final NativeKernels k;
    private final ConcurrentHashMap<String, MemorySegment> names = new ConcurrentHashMap<>();

    private NvtxRanges(NativeKernels k) {
        this.k = k;
    }

    /** Routes span names to NVTX from now on (once per process; later calls keep the first). */
    static synchronized void install(NativeKernels k) {
        if (!installed) {
            Profiler.setRangeSink(new NvtxRanges(k));
            installed = true;
        }
    }

    private static boolean installed;

    @Override
    public void push(String name) {
        k.nvtxPush(names.computeIfAbsent(name, n -> Arena.global().allocateFrom(n)));
    }

    @Override
    public void pop() {
        k.nvtxPop();
    }
}
