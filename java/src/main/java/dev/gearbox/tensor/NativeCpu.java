package dev.gearbox.tensor;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Optional native decode kernels for Q8_0, Q4_0 ({@code native/cpu/gearbox_cpu.c}), and the
 * K-quants Q2_K..Q6_K ({@code native/cpu/kquants.c}), called
 * through Panama. They quantize the activations to 8 bits and use AVX-512 VNNI byte dot products,
 * which the Vector API cannot express; that instruction is why llama.cpp decodes these types
 * faster than any pure-Java kernel here. Used only when the library was built
 * ({@code scripts/build-native-cpu.sh}, run by the launcher and the tests), the CPU has VNNI and
 * {@code -Dgearbox.cpu.native=false} is not set; otherwise the Vector API kernels run.
 */
final class NativeCpu {
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    private static final ValueLayout ADDR = ValueLayout.ADDRESS;

    private static final MethodHandle QUANTIZE, MATVEC_Q8_0, MATVEC_Q4_0, MATVEC_Q4_K, MATVEC_Q5_K, MATVEC_Q6_K, MATVEC_Q2_K, MATVEC_Q3_K;
    private static final String STATUS;

    static {
        MethodHandle quantize = null, q8 = null, q4 = null, q4k = null, q5k = null, q6k = null, q2k = null, q3k = null;
        String status;
        Path lib = libraryPath();
        if (!Boolean.parseBoolean(System.getProperty("gearbox.cpu.native", "true"))) {
            status = "off (-Dgearbox.cpu.native=false)";
        } else if (!Files.isReadable(lib)) {
            status = "not built (" + lib + ")";
        } else {
            try {
                Linker linker = Linker.nativeLinker();
                SymbolLookup syms = SymbolLookup.libraryLookup(lib, Arena.global());
                MethodHandle supported = linker.downcallHandle(syms.findOrThrow("gbx_cpu_supported"), FunctionDescriptor.of(INT));
                if ((int) supported.invokeExact() == 0) {
                    status = "unsupported CPU (needs AVX-512 VNNI)";
                } else {
                    // critical: the kernels are short and never call back, so heap arrays are passed in place.
                    Linker.Option critical = Linker.Option.critical(true);
                    quantize = linker.downcallHandle(syms.findOrThrow("gbx_cpu_quantize_q8"),
                            FunctionDescriptor.ofVoid(ADDR, INT, ADDR, ADDR, ADDR), critical);
                    q8 = linker.downcallHandle(syms.findOrThrow("gbx_cpu_matvec_q8_0"),
                            FunctionDescriptor.ofVoid(ADDR, LONG, INT, INT, INT, ADDR, ADDR, ADDR), critical);
                    q4 = linker.downcallHandle(syms.findOrThrow("gbx_cpu_matvec_q4_0"),
                            FunctionDescriptor.ofVoid(ADDR, LONG, INT, INT, INT, ADDR, ADDR, ADDR, ADDR), critical);
                    q4k = linker.downcallHandle(syms.findOrThrow("gbx_cpu_matvec_q4_k"),
                            FunctionDescriptor.ofVoid(ADDR, LONG, INT, INT, INT, ADDR, ADDR, ADDR, ADDR), critical);
                    q5k = linker.downcallHandle(syms.findOrThrow("gbx_cpu_matvec_q5_k"),
                            FunctionDescriptor.ofVoid(ADDR, LONG, INT, INT, INT, ADDR, ADDR, ADDR, ADDR), critical);
                    q6k = linker.downcallHandle(syms.findOrThrow("gbx_cpu_matvec_q6_k"),
                            FunctionDescriptor.ofVoid(ADDR, LONG, INT, INT, INT, ADDR, ADDR, ADDR), critical);
                    q2k = linker.downcallHandle(syms.findOrThrow("gbx_cpu_matvec_q2_k"),
                            FunctionDescriptor.ofVoid(ADDR, LONG, INT, INT, INT, ADDR, ADDR, ADDR), critical);
                    q3k = linker.downcallHandle(syms.findOrThrow("gbx_cpu_matvec_q3_k"),
                            FunctionDescriptor.ofVoid(ADDR, LONG, INT, INT, INT, ADDR, ADDR, ADDR), critical);
                    status = "on (" + lib + ")";
                }
            } catch (Throwable t) {
                quantize = q8 = q4 = q4k = q5k = q6k = q2k = q3k = null;
                status = "failed to load " + lib + ": " + t;
            }
        }
        QUANTIZE = quantize;
        MATVEC_Q8_0 = q8;
        MATVEC_Q4_0 = q4;
        MATVEC_Q4_K = q4k;
        MATVEC_Q5_K = q5k;
        MATVEC_Q6_K = q6k;
        MATVEC_Q2_K = q2k;
        MATVEC_Q3_K = q3k;
        STATUS = status;
    }

    private NativeCpu() {}

    private static Path libraryPath() {
        String p = System.getProperty("gearbox.cpu.lib", System.getenv("GEARBOX_CPU_LIB"));
        if (p != null) return Path.of(p);
        // Beside the jar (target/gearbox.jar -> target/native/), else relative to the working dir.
        try {
            Path jar = Path.of(NativeCpu.class.getProtectionDomain().getCodeSource().getLocation().toURI());
            Path candidate = jar.getParent().resolve("native").resolve("libgearbox_cpu.so");
            if (Files.isReadable(candidate)) return candidate;
            candidate = jar.getParent().getParent().resolve("native").resolve("libgearbox_cpu.so"); // target/classes
            if (Files.isReadable(candidate)) return candidate;
        } catch (Exception ignored) {
            // fall through
        }
        return Path.of("target", "native", "libgearbox_cpu.so");
    }

    /** Whether the native kernels will be used, and why not. */
    static String status() { return STATUS; }

    static boolean available() { return QUANTIZE != null; }

    static boolean handles(GGMLType t) {
        return available() && (t == GGMLType.Q8_0 || t == GGMLType.Q4_0 || t == GGMLType.Q2_K || t == GGMLType.Q3_K
                || t == GGMLType.Q4_K || t == GGMLType.Q5_K || t == GGMLType.Q6_K);
    }

    /** Decode product y = W·x for a Q8_0, Q4_0 or K-quant (Q2_K..Q6_K) matrix, over the worker threads. */
    static void matvec(WeightMatrix w, float[] x, float[] out) {
        int cols = w.cols(), nb = cols / 32;
        byte[] q = new byte[cols];
        float[] d = new float[nb];
        int[] s = new int[nb];
        try {
            QUANTIZE.invokeExact(MemorySegment.ofArray(x), cols, MemorySegment.ofArray(q), MemorySegment.ofArray(d), MemorySegment.ofArray(s));
        } catch (Throwable t) {
            throw new IllegalStateException("native quantize failed", t);
        }
        MemorySegment wq = w.data(), qs = MemorySegment.ofArray(q), ds = MemorySegment.ofArray(d), ss = MemorySegment.ofArray(s);
        MemorySegment ys = MemorySegment.ofArray(out);
        long rb = w.rowBytes();
        GGMLType type = w.type();
        int grain = Math.max(1, (int) (16384 / Math.max(1, rb)));
        Parallel.forRange(w.rows(), grain, (r0, r1) -> {
            MemorySegment y = ys.asSlice(4L * r0);
            try {
                switch (type) {
                    case Q8_0 -> MATVEC_Q8_0.invokeExact(wq, rb, cols, r0, r1, qs, ds, y);
                    case Q4_0 -> MATVEC_Q4_0.invokeExact(wq, rb, cols, r0, r1, qs, ds, ss, y);
                    case Q4_K -> MATVEC_Q4_K.invokeExact(wq, rb, cols, r0, r1, qs, ds, ss, y);
                    case Q5_K -> MATVEC_Q5_K.invokeExact(wq, rb, cols, r0, r1, qs, ds, ss, y);
                    case Q6_K -> MATVEC_Q6_K.invokeExact(wq, rb, cols, r0, r1, qs, ds, y);
                    case Q2_K -> MATVEC_Q2_K.invokeExact(wq, rb, cols, r0, r1, qs, ds, y);
                    case Q3_K -> MATVEC_Q3_K.invokeExact(wq, rb, cols, r0, r1, qs, ds, y);
                    default -> throw new IllegalArgumentException("no native kernel for " + type);
                }
            } catch (Throwable t) {
                throw new IllegalStateException("native matvec failed", t);
            }
        });
    }
}
