package dev.gearbox.tensor;

import static dev.gearbox.tensor.DotKernels.LE;
import static jdk.incubator.vector.VectorOperators.B2S;
import static jdk.incubator.vector.VectorOperators.I2F;
import static jdk.incubator.vector.VectorOperators.S2I;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import jdk.incubator.vector.ByteVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;

/**
 * Micro-benchmark of {@link Kernels#matmul}: per type, weight GB/s and milliseconds per call for
 * the matrix shapes of a ~110M llama (2048x768 and 768x2048 feed-forward, 32000x768 classifier),
 * for n = 1 (decode) and n = 32 (prefill). Not a test; run it to tune:
 * <pre>java --add-modules jdk.incubator.vector -cp target/classes dev.gearbox.tensor.KernelBench [threads] [TYPE,...] [--int8] [--decode | --prefill=N]</pre>
 * {@code --prefill=N} times only n = N (e.g. 512, a whole pp512 batch).
 * {@code --int8} also times a Q8_0 matvec that quantizes x to int8 blocks and multiplies
 * byte-by-byte the way llama.cpp does, for comparison with the float-lane kernel.
 */
public final class KernelBench {
    private KernelBench() {}

    public static void main(String[] args) {
        int threads = Runtime.getRuntime().availableProcessors();
        List<GGMLType> types = new ArrayList<>(List.of(GGMLType.F32, GGMLType.F16, GGMLType.BF16, GGMLType.Q8_0,
                GGMLType.Q4_0, GGMLType.Q4_1, GGMLType.Q5_0, GGMLType.Q2_K, GGMLType.Q3_K, GGMLType.Q4_K, GGMLType.Q5_K, GGMLType.Q6_K));
        boolean int8 = false;
        int[] ns = {1, 32};
        for (String a : args) {
            if (a.equals("--int8")) int8 = true;
            else if (a.equals("--decode")) ns = new int[] {1};
            else if (a.startsWith("--prefill=")) ns = new int[] {Integer.parseInt(a.substring(10))};
            else if (Character.isDigit(a.charAt(0))) threads = Integer.parseInt(a);
            else {
                types.clear();
                for (String t : a.split(",")) types.add(GGMLType.valueOf(t.trim().toUpperCase(Locale.ROOT)));
            }
        }
        Parallel.setThreads(threads);
        System.out.printf(Locale.ROOT, "threads=%d vectorLanes=%d vector=%s%n", threads, DotKernels.L, DotKernels.VECTOR);
        int[][] shapes = {{2048, 768}, {768, 2048}, {32000, 768}};
        Random rnd = new Random(1);
        float[] values = new float[32000 * 768];
        for (int i = 0; i < values.length; i++) values[i] = (float) rnd.nextGaussian() * 0.02f;
        java.util.Set<String> warmed = new java.util.HashSet<>();
        try (Arena arena = Arena.ofShared()) {
            for (GGMLType type : types) {
                for (int[] shape : shapes) {
                    int rows = shape[0], cols = shape[1];
                    float[] w = new float[rows * cols];
                    System.arraycopy(values, 0, w, 0, w.length);
                    byte[] bytes = Quantizer.quantize(type, w);
                    MemorySegment seg = arena.allocate(bytes.length, 64);
                    seg.copyFrom(MemorySegment.ofArray(bytes));
                    WeightMatrix m = new WeightMatrix(type, rows, cols, seg);
                    for (int n : ns) {
                        float[] x = new float[n * cols];
                        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
                        float[] out = new float[n * rows];
                        firstRun = warmed.add(type + "/" + n);
                        double ms = time(() -> Kernels.matmul(m, x, n, out));
                        System.out.printf(Locale.ROOT, "%-5s %5dx%-5d n=%-4d %8.3f ms/call %7.2f GB/s %8.3f ms/token %6d B/call  caller-cpu %8.3f ms (%6.2f GB/s)%n",
                                type, rows, cols, n, ms, m.byteSize() / (ms * 1e6), ms / n, lastAlloc, lastCpuMs, m.byteSize() / (lastCpuMs * 1e6));
                    }
                    if (int8 && type == GGMLType.Q8_0) {
                        float[] x = new float[cols];
                        for (int i = 0; i < x.length; i++) x[i] = (float) rnd.nextGaussian();
                        float[] out = new float[rows];
                        byte[] xq = new byte[cols];
                        float[] xd = new float[cols / 32];
                        firstRun = warmed.add("int8");
                        double ms = time(() -> int8Matvec(m, x, xq, xd, out));
                        System.out.printf(Locale.ROOT, "Q8_0xQ8_0-int8 %5dx%-5d n=1   %8.3f ms/call %7.2f GB/s%n",
                                rows, cols, ms, m.byteSize() / (ms * 1e6));
                    }
                }
            }
        }
    }

    /** Average milliseconds per run after warming up, measured for about half a second. */
    private static double time(Runnable r) {
        long warmEnd = System.nanoTime() + (firstRun ? WARMUP_MS : WARMUP_MS / 4) * 1_000_000L;
        firstRun = false;
        while (System.nanoTime() < warmEnd) r.run();
        var mx = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
        long a0 = mx.getCurrentThreadAllocatedBytes();
        long c0 = mx.getCurrentThreadCpuTime();
        int iters = 0;
        long t0 = System.nanoTime(), end = t0 + 500_000_000L, t;
        do {
            r.run();
            iters++;
        } while ((t = System.nanoTime()) < end);
        lastAlloc = (mx.getCurrentThreadAllocatedBytes() - a0) / iters;
        lastCpuMs = (mx.getCurrentThreadCpuTime() - c0) / 1e6 / iters;
        return (t - t0) / 1e6 / iters;
    }

    /** Bytes the calling thread allocated per call in the last {@link #time} (workers not counted). */
    private static long lastAlloc;

    /** The first timing of each type and n waits for the JIT; later shapes reuse the compiled kernel. */
    private static boolean firstRun;

    /**
     * CPU milliseconds of the calling thread per call. On a shared machine wall time includes
     * waiting for a core; with one thread (all work on the caller) this is the kernel's own cost.
     */
    private static double lastCpuMs;

    private static final long WARMUP_MS = Long.getLong("bench.warmupMs", 1500);

    // ---- the llama.cpp-style alternative, kept here only to measure it ----------------------

    private static void int8Matvec(WeightMatrix w, float[] x, byte[] xq, float[] xd, float[] out) {
        int cols = w.cols();
        for (int b = 0; b < cols / 32; b++) {
            float amax = 0;
            for (int j = 0; j < 32; j++) amax = Math.max(amax, Math.abs(x[32 * b + j]));
            float d = amax / 127f, id = d != 0 ? 1 / d : 0;
            xd[b] = d;
            for (int j = 0; j < 32; j++) xq[32 * b + j] = (byte) Math.round(x[32 * b + j] * id);
        }
        MemorySegment s = w.data();
        long rb = w.rowBytes();
        int nb = cols / 32;
        Parallel.forRange(w.rows(), 64, (r0, r1) -> {
            for (int r = r0; r < r1; r++) out[r] = int8Dot(s, r * rb, xq, xd, nb);
        });
    }

    /** 32 signed bytes x 32 signed bytes: widen both to shorts, multiply, widen to ints, add halves. */
    private static float int8Dot(MemorySegment s, long at, byte[] xq, float[] xd, int nb) {
        FloatVector acc = FloatVector.zero(FloatVector.SPECIES_512);
        for (int b = 0; b < nb; b++) {
            long bo = at + 34L * b;
            ShortVector wv = (ShortVector) ByteVector.fromMemorySegment(ByteVector.SPECIES_256, s, bo + 2, LE)
                    .convertShape(B2S, ShortVector.SPECIES_512, 0);
            ShortVector xv = (ShortVector) ByteVector.fromArray(ByteVector.SPECIES_256, xq, 32 * b)
                    .convertShape(B2S, ShortVector.SPECIES_512, 0);
            ShortVector p = wv.mul(xv);
            IntVector lo = (IntVector) p.convertShape(S2I, IntVector.SPECIES_512, 0);
            IntVector hi = (IntVector) p.convertShape(S2I, IntVector.SPECIES_512, 1);
            FloatVector f = (FloatVector) lo.add(hi).convertShape(I2F, FloatVector.SPECIES_512, 0);
            acc = f.fma(FloatVector.broadcast(FloatVector.SPECIES_512, DotKernels.f16(s, bo) * xd[b]), acc);
        }
        return DotKernels.sum(acc.reinterpretShape(DotKernels.F, 0).reinterpretAsFloats());
    }
}
