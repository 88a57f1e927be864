package dev.gearbox.profile;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.ArrayList;
import java.util.List;

/**
 * The machine's ceilings the profile summary compares against: memory bandwidth (bytes/s, a
 * large-array sum and copy on every core) and F32 FLOP/s (a Vector API FMA loop on every core).
 * Measured once by {@code gearbox profile --calibrate-machine} and cached in
 * {@code $XDG_CACHE_HOME/gearbox/machine.json} (default {@code ~/.cache}; the system property
 * {@code gearbox.cache.home} overrides both, for tests).
 */
public record MachineCeilings(double bytesPerSecond, double flopsPerSecond, int cores, String measuredAt) {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;

    /** Where the cache lives. */
    public static Path cacheFile() {
        String home = System.getProperty("gearbox.cache.home");
        if (home == null || home.isBlank()) home = System.getenv("XDG_CACHE_HOME");
        Path base = home != null && !home.isBlank() ? Path.of(home) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("gearbox").resolve("machine.json");
    }

    /** The cached ceilings, or null when there is no cache yet; a damaged cache is an error naming the file. */
    public static MachineCeilings load() throws IOException {
        Path f = cacheFile();
        if (!Files.exists(f)) return null;
        try {
            JsonNode n = new ObjectMapper().readTree(f.toFile());
            double bw = n.path("bytes_per_second").asDouble(-1), fl = n.path("flops_per_second").asDouble(-1);
            if (!(bw > 0) || !(fl > 0)) throw new IOException("bytes_per_second and flops_per_second must be positive numbers");
            return new MachineCeilings(bw, fl, n.path("cores").asInt(0), n.path("measured_at").asText(""));
        } catch (IOException e) {
            throw new IOException("cannot read the machine ceilings cache " + f + ": " + e.getMessage() + " (rerun gearbox profile --calibrate-machine)", e);
        }
    }

    public void save() throws IOException {
        Path f = cacheFile();
        Files.createDirectories(f.getParent());
        ObjectMapper m = new ObjectMapper();
        ObjectNode n = m.createObjectNode();
        n.put("bytes_per_second", bytesPerSecond);
        n.put("flops_per_second", flopsPerSecond);
        n.put("cores", cores);
        n.put("measured_at", measuredAt);
        Path tmp = f.resolveSibling("machine.json.tmp");
        Files.writeString(tmp, m.writerWithDefaultPrettyPrinter().writeValueAsString(n) + "\n");
        Files.move(tmp, f, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    /**
     * Measures both ceilings on {@code threads} threads. {@code quick} uses smaller arrays and fewer
     * repetitions (about a second in all) and reads a little low; the full run takes a few seconds.
     */
    public static MachineCeilings measure(int threads, boolean quick) {
        ExecutorService pool = Executors.newFixedThreadPool(threads);
        try {
            double bw = bandwidth(pool, threads, quick ? 16 << 20 : 64 << 20, quick ? 3 : 6);
            double fl = flops(pool, threads, 100_000_000L, quick ? 3 : 5);   // later reps run JIT-compiled code
            return new MachineCeilings(bw, fl, threads, Instant.now().toString());
        } finally {
            pool.shutdownNow();
        }
    }

    /** Best of reps: every thread sums its own slice of a large array and copies another (read 2, write 1). */
    private static double bandwidth(ExecutorService pool, int threads, int floatsPerThread, int reps) {
        float[][] a = new float[threads][floatsPerThread], b = new float[threads][floatsPerThread];
        for (float[] x : a) java.util.Arrays.fill(x, 1f);
        double best = 0;
        for (int rep = 0; rep < reps; rep++) {
            long t0 = System.nanoTime();
            double sink = run(pool, threads, t -> {
                float[] x = a[t], y = b[t];
                FloatVector acc = FloatVector.zero(F);
                int i = 0, up = F.loopBound(x.length);
                for (; i < up; i += F.length()) acc = acc.add(FloatVector.fromArray(F, x, i));
                System.arraycopy(x, 0, y, 0, x.length);
                return acc.reduceLanes(jdk.incubator.vector.VectorOperators.ADD) + y[y.length - 1];
            });
            long dt = System.nanoTime() - t0;
            double bytes = 3.0 * threads * floatsPerThread * Float.BYTES;
            if (sink != 0) best = Math.max(best, bytes / (dt / 1e9));
        }
        return best;
    }

    /** Best of reps: every thread runs independent FMA chains on registers (2 FLOPs per lane per FMA). */
    private static double flops(ExecutorService pool, int threads, long fmasPerThread, int reps) {
        double best = 0;
        int chains = 8;
        long iters = fmasPerThread / ((long) chains * F.length());
        for (int rep = 0; rep < reps; rep++) {
            long t0 = System.nanoTime();
            double sink = run(pool, threads, t -> {
                FloatVector m = FloatVector.broadcast(F, 0.999999f), c = FloatVector.broadcast(F, 1e-7f);
                FloatVector a0 = FloatVector.broadcast(F, 1), a1 = a0, a2 = a0, a3 = a0, a4 = a0, a5 = a0, a6 = a0, a7 = a0;
                for (long i = 0; i < iters; i++) {
                    a0 = a0.fma(m, c); a1 = a1.fma(m, c); a2 = a2.fma(m, c); a3 = a3.fma(m, c);
                    a4 = a4.fma(m, c); a5 = a5.fma(m, c); a6 = a6.fma(m, c); a7 = a7.fma(m, c);
                }
                return a0.add(a1).add(a2).add(a3).add(a4).add(a5).add(a6).add(a7).reduceLanes(jdk.incubator.vector.VectorOperators.ADD);
            });
            long dt = System.nanoTime() - t0;
            double flops = 2.0 * threads * iters * chains * F.length();
            if (sink != 0) best = Math.max(best, flops / (dt / 1e9));
        }
        return best;
    }

    private interface Work {
        double run(int thread);
    }

    private static double run(ExecutorService pool, int threads, Work w) {
        List<Future<Double>> fs = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
            int id = t;
            fs.add(pool.submit(() -> w.run(id)));
        }
        double s = 0;
        try {
            for (Future<Double> f : fs) s += f.get();
        } catch (Exception e) {
            throw new IllegalStateException("machine calibration failed: " + e.getMessage(), e);
        }
        return s == 0 ? 1 : s;   // the sum only keeps the loops alive
    }
}
