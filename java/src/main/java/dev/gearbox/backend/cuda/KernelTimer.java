package dev.gearbox.backend.cuda;

import dev.gearbox.profile.Profiler;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Per-kernel device times while the profiler is on: a CUDA event before and after each launch on
 * the backend's stream, read back at the next synchronisation (a read or a token choice) and
 * handed to the profiler as "kernel" spans on the device's track. Positions on the timeline come
 * from one reference event recorded with the first timed launch since the last read, placed at
 * the host time of that launch; the GPU runs somewhat later than it was launched, so the kernels'
 * durations and gaps are exact and their offset from host spans is approximate.
 */
final class KernelTimer {
    private record Pending(String name, long start, long end, long bytes, long flops) {}

    private final NativeKernels k;
    private final long stream;
    private final String track;
    private final ArrayDeque<Long> spare = new ArrayDeque<>();
    private final List<Pending> pending = new ArrayList<>();
    private long reference, referenceHostNanos;
    private long openStart;
    private String openName;
    private long openBytes, openFlops;

    KernelTimer(NativeKernels k, long stream, String track, double peakBandwidth) {
        this.k = k;
        this.stream = stream;
        this.track = track;
        if (peakBandwidth > 0) Profiler.setTrackPeakBandwidth(track, peakBandwidth);
    }

    private long event() {
        Long e = spare.poll();
        return e != null ? e : k.eventCreate();
    }

    /** Before a launch: {@code bytes} moved and {@code flops} done by it, or -1. */
    void begin(String name, long bytes, long flops) {
        if (pending.isEmpty() && reference == 0) {
            reference = event();
            k.eventRecord(reference, stream);
            referenceHostNanos = System.nanoTime();
        }
        openStart = event();
        openName = name;
        openBytes = bytes;
        openFlops = flops;
        k.eventRecord(openStart, stream);
    }

    /** After the launch begun last. */
    void end() {
        long end = event();
        k.eventRecord(end, stream);
        pending.add(new Pending(openName, openStart, end, openBytes, openFlops));
    }

    /** After the stream was synchronised: every timed launch becomes a span. */
    void flush() {
        if (reference == 0) return;
        for (Pending p : pending) {
            double fromRef = k.eventElapsedMs(reference, p.start), ms = k.eventElapsedMs(p.start, p.end);
            long start = referenceHostNanos + Math.round(fromRef * 1e6);
            Profiler.device(p.name, track, start, start + Math.round(ms * 1e6), p.bytes, p.flops);
            spare.add(p.start);
            spare.add(p.end);
        }
        pending.clear();
        spare.add(reference);
        reference = 0;
    }

    void close() {
        for (Pending p : pending) {
            spare.add(p.start);
            spare.add(p.end);
        }
        pending.clear();
        if (reference != 0) spare.add(reference);
        reference = 0;
        for (long e : spare) k.eventDestroy(e);
        spare.clear();
    }
}
