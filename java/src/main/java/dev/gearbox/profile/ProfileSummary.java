package dev.gearbox.profile;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The text summary printed after a profile run: where the time went per tier (steps, gatekeeper,
 * queue waits) and per operation inside the forward pass (matmul, attention, other), with calls,
 * total ms, share, and achieved bandwidth and FLOP/s against the machine's ceilings.
 */
public final class ProfileSummary {
    private ProfileSummary() { }

    private static final class Row {
        long nanos, calls, tokens, bytes, flops, batchSum, batchN;
    }

    /** {@code ceilings} may be null: then the columns against the ceilings are left out. */
    public static String format(List<Span> spans, MachineCeilings ceilings) {
        Map<String, Row> tiers = new TreeMap<>(), ops = new TreeMap<>(), other = new TreeMap<>(), kernels = new TreeMap<>();
        Map<String, Double> kernelPeak = new TreeMap<>();
        long stepTotal = 0;
        for (Span s : spans) {
            long d = s.durationNanos();
            switch (s.category) {
                case "step", "forward" -> {
                    if (s.parent != null && (s.parent.category.equals("step") || s.parent.category.equals("forward"))) break;
                    Row r = tiers.computeIfAbsent(owner(s), k -> new Row());
                    r.nanos += d;
                    r.calls++;
                    if (s.tokens > 0) r.tokens += s.tokens;
                    if (s.batch > 0) {
                        r.batchSum += s.batch;
                        r.batchN++;
                    }
                    stepTotal += d;
                }
                case "op" -> {
                    Row r = ops.computeIfAbsent(owner(s) + "\u0000" + s.name, k -> new Row());
                    r.nanos += d;
                    r.calls += s.calls;
                    if (s.bytes > 0) r.bytes += s.bytes;
                    if (s.flops > 0) r.flops += s.flops;
                }
                case "kernel" -> {
                    String key = owner(s) + "\u0000" + s.name;
                    Row r = kernels.computeIfAbsent(key, k -> new Row());
                    r.nanos += d;
                    r.calls++;
                    if (s.bytes > 0) r.bytes += s.bytes;
                    if (s.flops > 0) r.flops += s.flops;
                    kernelPeak.put(key, Profiler.trackPeakBandwidth(s.track));
                }
                default -> {
                    Row r = other.computeIfAbsent(s.name, k -> new Row());
                    r.nanos += d;
                    r.calls++;
                }
            }
        }
        StringBuilder b = new StringBuilder();
        b.append("Per tier (forward steps; share of all step time)\n");
        b.append(String.format(Locale.ROOT, "  %-18s %7s %7s %10s %9s %10s %10s%n", "tier", "share", "steps", "total ms", "tokens", "tok/s", "mean batch"));
        for (Map.Entry<String, Row> e : tiers.entrySet()) {
            Row r = e.getValue();
            b.append(String.format(Locale.ROOT, "  %-18s %6.1f%% %7d %10.2f %9d %10.1f %10.2f%n", e.getKey(), pct(r.nanos, stepTotal), r.calls, r.nanos / 1e6,
                    r.tokens, r.tokens / Math.max(1e-9, r.nanos / 1e9), r.batchN == 0 ? 0.0 : (double) r.batchSum / r.batchN));
        }
        if (!other.isEmpty()) {
            b.append("Around the steps\n");
            b.append(String.format(Locale.ROOT, "  %-18s %7s %10s %10s%n", "span", "count", "total ms", "mean ms"));
            for (Map.Entry<String, Row> e : other.entrySet()) {
                Row r = e.getValue();
                b.append(String.format(Locale.ROOT, "  %-18s %7d %10.2f %10.3f%n", e.getKey(), r.calls, r.nanos / 1e6, r.nanos / 1e6 / Math.max(1, r.calls)));
            }
        }
        b.append("Per operation (share of its tier's step time)");
        if (ceilings != null) {
            b.append(String.format(Locale.ROOT, "; ceilings: %.1f GB/s, %.1f GFLOP/s (%d cores, measured %s)",
                    ceilings.bytesPerSecond() / 1e9, ceilings.flopsPerSecond() / 1e9, ceilings.cores(), ceilings.measuredAt()));
        }
        b.append('\n');
        b.append(String.format(Locale.ROOT, "  %-18s %-10s %7s %9s %10s %9s %7s %9s %7s%n", "tier", "op", "share", "calls", "total ms", "GB/s", "of BW", "GFLOP/s", "of peak"));
        for (Map.Entry<String, Row> e : ops.entrySet()) {
            String[] k = e.getKey().split("\u0000");
            Row r = e.getValue();
            Row t = tiers.get(k[0]);
            double secs = Math.max(1e-9, r.nanos / 1e9);
            double gbs = r.bytes / secs / 1e9, gfl = r.flops / secs / 1e9;
            // Ops outside any step (the gatekeeper's forward pass) have no step time to be a share of.
            String share = t != null ? String.format(Locale.ROOT, "%.1f%%", pct(r.nanos, t.nanos)) : "-";
            b.append(String.format(Locale.ROOT, "  %-18s %-10s %7s %9d %10.2f %9s %7s %9s %7s%n", k[0], k[1], share, r.calls, r.nanos / 1e6,
                    r.bytes > 0 ? String.format(Locale.ROOT, "%.2f", gbs) : "-",
                    r.bytes > 0 && ceilings != null ? String.format(Locale.ROOT, "%.0f%%", 100 * gbs * 1e9 / ceilings.bytesPerSecond()) : "-",
                    r.flops > 0 ? String.format(Locale.ROOT, "%.2f", gfl) : "-",
                    r.flops > 0 && ceilings != null ? String.format(Locale.ROOT, "%.0f%%", 100 * gfl * 1e9 / ceilings.flopsPerSecond()) : "-"));
        }
        if (!kernels.isEmpty()) {
            // Device time by the GPU's clock: the ops above are host time, which for a GPU tier is
            // mostly launching and waiting; these rows are what the kernels themselves took.
            b.append("Per GPU kernel (device time from CUDA events; share of its tier's step time; BW against the card's peak)\n");
            b.append(String.format(Locale.ROOT, "  %-18s %-10s %7s %9s %10s %9s %7s %9s%n", "tier", "kernel", "share", "calls", "total ms", "GB/s", "of BW", "GFLOP/s"));
            for (Map.Entry<String, Row> e : kernels.entrySet()) {
                String[] k = e.getKey().split("\u0000");
                Row r = e.getValue();
                Row t = tiers.get(k[0]);
                double secs = Math.max(1e-9, r.nanos / 1e9);
                double gbs = r.bytes / secs / 1e9, peak = kernelPeak.getOrDefault(e.getKey(), 0.0);
                b.append(String.format(Locale.ROOT, "  %-18s %-10s %7s %9d %10.3f %9s %7s %9s%n", k[0], k[1],
                        t != null ? String.format(Locale.ROOT, "%.1f%%", pct(r.nanos, t.nanos)) : "-", r.calls, r.nanos / 1e6,
                        r.bytes > 0 ? String.format(Locale.ROOT, "%.1f", gbs) : "-",
                        r.bytes > 0 && peak > 0 ? String.format(Locale.ROOT, "%.0f%%", 100 * gbs * 1e9 / peak) : "-",
                        r.flops > 0 ? String.format(Locale.ROOT, "%.1f", r.flops / secs / 1e9) : "-"));
            }
        }
        return b.toString();
    }

    /** The tier a span ran for, else the name of its outermost span (e.g. gatekeeper, forward_decode). */
    static String owner(Span s) {
        String t = s.tier();
        if (t != null) return t;
        Span root = s;
        while (root.parent != null) root = root.parent;
        return root == s && s.category.equals("op") ? "-" : root.name;
    }

    private static double pct(long part, long whole) {
        return whole <= 0 ? 0 : 100.0 * part / whole;
    }
}
