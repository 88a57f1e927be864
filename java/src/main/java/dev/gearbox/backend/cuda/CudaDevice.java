package dev.gearbox.backend.cuda;

import java.util.Locale;

/**
 * One CUDA device as detected: its ordinal, name, memory and compute capability, plus the peak
 * memory bandwidth we compare decode against (known cards only: from the name, not measured).
 */
public record CudaDevice(int ordinal, String name, long freeBytes, long totalBytes, int ccMajor, int ccMinor) {

    /** Device {@code ordinal} as our own kernel library reports it (built against CUDA 13.0's headers, not JavaCPP's 13.1 struct layout). */
    static CudaDevice of(NativeKernels k, int ordinal) {
        NativeKernels.DeviceInfo info = k.deviceInfo(ordinal);
        return new CudaDevice(ordinal, info.name(), info.free(), info.total(), info.ccMajor(), info.ccMinor());
    }

    /** Peak HBM bandwidth in bytes per second from the datasheet, or -1 when the card is not one we know. */
    public double peakBandwidth() {
        String n = name.toUpperCase(Locale.ROOT);
        if (n.contains("H200")) return 4.8e12;
        if (n.contains("H100")) return n.contains("PCIE") ? 2.0e12 : 3.35e12;
        if (n.contains("A100")) return n.contains("40GB") ? 1.555e12 : 2.039e12;
        return -1;
    }

    /** "3.35 TB/s" or "unknown". */
    public String peakBandwidthText() {
        double p = peakBandwidth();
        return p > 0 ? String.format(Locale.ROOT, "%.2f TB/s", p / 1e12) : "unknown";
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "cuda:%d %s (sm_%d%d, %.1f of %.1f GiB free)", ordinal, name, ccMajor, ccMinor,
                freeBytes / (double) (1L << 30), totalBytes / (double) (1L << 30));
    }
}
