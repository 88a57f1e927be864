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
 * Optional native kernels ({@code native/cpu}): decode matrix-vector products for Q8_0
 * ({@code gearbox_cpu.c}), Q4_0 ({@code gearbox_q4_0.c}, on a repacked copy) and the K-quants
 * Q2_K..Q6_K ({@code kquants.c}), and prefill products of several tokens for Q8_0, Q4_0 and
 * Q2_K..Q6_K ({@code gearbox_gemm.c}), called through Panama. They quantize the
 * activations to 8 bits and use AVX-512 VNNI byte dot products, which the Vector API cannot
 * express; that instruction is why llama.cpp runs these types faster than any pure-Java kernel. Used only when the library was built
 * ({@code scripts/build-native-cpu.sh}, run by the launcher and the tests), the CPU has VNNI and
 * {@code -Dgearbox.cpu.native=false} is not set; otherwise the Vector API kernels run.
 */
final class NativeCpu {
    private static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;
    private static final ValueLayout.OfLong LONG = ValueLayout.JAVA_LONG;
    private static final ValueLayout ADDR = ValueLayout.ADDRESS;

    private static final MethodHandle QUANTIZE, PREPARE_U8, MATVEC_Q8_0, GEMM, PACK_Q4_0, MATVEC_Q4_0_PACKED,
            MATVEC_Q2_K, MATVEC_Q3_K, MATVEC_Q4_K, MATVEC_Q5_K, MATVEC_Q6_K;
    private static final String STATUS;

    static {
        MethodHandle quantize = null, prepare = null, q8 = null, gemm = null, pack = null, q4p = null;
        MethodHandle q2k = null, q3k = null, q4k = null, q5k = null, q6k = null;
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
                    prepare = linker.downcallHandle(syms.findOrThrow("gbx_cpu_prepare_u8"),
                            FunctionDescriptor.ofVoid(ADDR, LONG, ADDR, ADDR), critical);
                    q8 = linker.downcallHandle(syms.findOrThrow("gbx_cpu_matvec_q8_0"),
                            FunctionDescriptor.ofVoid(ADDR, LONG, INT, INT, INT, ADDR, ADDR, ADDR), critical);
                    gemm = linker.downcallHandle(syms.findOrThrow("gbx_cpu_gemm"),
                            FunctionDescriptor.of(INT, INT, ADDR, LONG, INT, INT, INT, INT, INT, ADDR, ADDR, ADDR, ADDR), critical);
                    pack = linker.downcallHandle(syms.findOrThrow("gbx_cpu_pack_q4_0"),
                            FunctionDescriptor.ofVoid(ADDR, LONG, INT, INT, INT, INT, ADDR), critical);
                    q4p = linker.downcallHandle(syms.findOrThrow("gbx_cpu_matvec_q4_0_packed"),
                            FunctionDescriptor.ofVoid(ADDR, INT, INT, INT, INT, ADDR, ADDR, ADDR, ADDR), critical);
                    // K-quants (kquants.c): Q4_K and Q5_K take the block sums of x (their mins), the others not.
                    FunctionDescriptor withSums = FunctionDescriptor.ofVoid(ADDR, LONG, INT, INT, INT, ADDR, ADDR, ADDR, ADDR);
                    FunctionDescriptor noSums = FunctionDescriptor.ofVoid(ADDR, LONG, INT, INT, INT, ADDR, ADDR, ADDR);
                    q2k = linker.downcallHandle(syms.findOrThrow("gbx_cpu_matvec_q2_k"), noSums, critical);
                    q3k = linker.downcallHandle(syms.findOrThrow("gbx_cpu_matvec_q3_k"), noSums, critical);
                    q4k = linker.downcallHandle(syms.findOrThrow("gbx_cpu_matvec_q4_k"), withSums, critical);
                    q5k = linker.downcallHandle(syms.findOrThrow("gbx_cpu_matvec_q5_k"), withSums, critical);
                    q6k = linker.downcallHandle(syms.findOrThrow("gbx_cpu_matvec_q6_k"), noSums, critical);
                    status = "on (" + lib + ")";
                }
            } catch (Throwable t) {
                quantize = prepare = q8 = gemm = pack = q4p = q2k = q3k = q4k = q5k = q6k = null;
                status = "failed to load " + lib + ": " + t;
            }
        }
        QUANTIZE = quantize;
        PREPARE_U8 = prepare;
        MATVEC_Q8_0 = q8;
        GEMM = gemm;
        PACK_Q4_0 = pack;
        MATVEC_Q4_0_PACKED = q4p;
        MATVEC_Q2_K = q2k;
        MATVEC_Q3_K = q3k;
        MATVEC_Q4_K = q4k;
        MATVEC_Q5_K = q5k;
        MATVEC_Q6_K = q6k;
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

    /** Types whose decode products (one token) run here. */
    static boolean handlesDecode(GGMLType t) {
        return available() && hasDecodeKernel(t);
    }

    /** Types the native library has decode kernels for, whether or not it is built and usable on this machine. */
    public static boolean hasDecodeKernel(GGMLType t) {
        return switch (t) {
            case Q8_0, Q4_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K -> true;
            default -> false;
        };
    }

    /** Types whose prefill products (several tokens) run here. */
    static boolean handlesPrefill(GGMLType t) {
        return available() && switch (t) {
            case Q8_0, Q4_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K -> true;
            default -> false;
        };
    }

    /** Decode product y = W·x for a matrix of a type {@link #handlesDecode} accepts, over the worker threads. */
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
        MemorySegment qs = MemorySegment.ofArray(q), ds = MemorySegment.ofArray(d), ss = MemorySegment.ofArray(s);
        MemorySegment ys = MemorySegment.ofArray(out);
        int rows = w.rows();
        if (w.type() == GGMLType.Q4_0) {
            MemorySegment p = packedQ4(w);
            int groups = (rows + GROUP - 1) / GROUP;
            int grain = Math.max(1, 16384 / (nb * PACKED_GROUP_BLOCK));
            Parallel.forRange(groups, grain, (g0, g1) -> {
                try {
                    MATVEC_Q4_0_PACKED.invokeExact(p, rows, cols, g0, g1, qs, ds, ss, ys.asSlice(4L * GROUP * g0));
                } catch (Throwable t) {
                    throw new IllegalStateException("native matvec failed", t);
                }
            });
            return;
        }
        MemorySegment wq = w.data();
        long rb = w.rowBytes();
        GGMLType type = w.type();
        int grain = Math.max(1, (int) (16384 / Math.max(1, rb)));
        Parallel.forRange(rows, grain, (r0, r1) -> {
            MemorySegment y = ys.asSlice(4L * r0);
            try {
                switch (type) {
                    case Q8_0 -> MATVEC_Q8_0.invokeExact(wq, rb, cols, r0, r1, qs, ds, y);
                    case Q2_K -> MATVEC_Q2_K.invokeExact(wq, rb, cols, r0, r1, qs, ds, y);
                    case Q3_K -> MATVEC_Q3_K.invokeExact(wq, rb, cols, r0, r1, qs, ds, y);
                    case Q4_K -> MATVEC_Q4_K.invokeExact(wq, rb, cols, r0, r1, qs, ds, ss, y);
                    case Q5_K -> MATVEC_Q5_K.invokeExact(wq, rb, cols, r0, r1, qs, ds, ss, y);
                    case Q6_K -> MATVEC_Q6_K.invokeExact(wq, rb, cols, r0, r1, qs, ds, y);
                    default -> throw new IllegalArgumentException("no native decode kernel for " + type);
                }
            } catch (Throwable t) {
                throw new IllegalStateException("native matvec failed", t);
            }
        });
    }

    /** Rows per group of the repacked Q4_0 layout, and its bytes per group and block (gearbox_cpu.h). */
    private static final int GROUP = 16, PACKED_GROUP_BLOCK = 288;

    /**
     * The native kernels' repacked copy of a Q4_0 matrix (layout in gearbox_cpu.h), built on the
     * first native product and kept with the matrix: as many bytes again as the matrix (plus
     * padding rows to a multiple of 16), in memory freed with the matrix. Native decode and prefill
     * read only the copy; the mmap'd original stays for the embedding lookup and the Vector API
     * kernels, and as its pages are file-backed the OS can drop them when nothing reads them.
     */
    static MemorySegment packedQ4(WeightMatrix w) {
        MemorySegment p = w.packed;
        if (p != null) return p;
        // Built without holding a lock: the pool's lock is taken inside, and two threads racing on
        // first use only repeat the work; the first copy stored wins.
        int rows = w.rows(), cols = w.cols();
        int groups = (rows + GROUP - 1) / GROUP;
        MemorySegment dst = Arena.ofAuto().allocate((long) groups * (cols / 32) * PACKED_GROUP_BLOCK, 64);
        MemorySegment src = w.data();
        long rb = w.rowBytes();
        Parallel.forRange(groups, 1, (g0, g1) -> {
            try {
                PACK_Q4_0.invokeExact(src, rb, rows, cols, g0, g1, dst);
            } catch (Throwable t) {
                throw new IllegalStateException("native Q4_0 repack failed", t);
            }
        });
        synchronized (w) {
            if (w.packed == null) w.packed = dst;
            return w.packed;
        }
    }

    /** Rows per native prefill tile (TILE_ROWS in gearbox_gemm.c). */
    private static final int TILE_ROWS = 16;

    /**
     * Prefill product {@code out[t * rows + r] = dot(row r of W, token t of x)} for {@code n}
     * tokens of a Q8_0, Q4_0 or K-quant matrix: x is quantized once per call (token rows over the workers),
     * then the workers take tiles of 16 weight rows, each run over all n tokens. The 16-value
     * sub-block types (Q2_K, Q3_K, Q6_K) take x as unsigned bytes (x + 128) with sums over 16
     * values instead (gbx_cpu_prepare_u8, in the same pass).
     */
    static void matmul(WeightMatrix w, float[] x, int n, float[] out) {
        int rows = w.rows(), cols = w.cols(), nb = cols / 32;
        byte[] q = new byte[n * cols];
        float[] d = new float[n * nb];
        int[] s = new int[n * nb];
        boolean unsigned = switch (w.type()) {
            case Q2_K, Q3_K, Q6_K -> true;
            default -> false;
        };
        byte[] u = unsigned ? new byte[n * cols] : null;
        int[] s16 = unsigned ? new int[n * cols / 16] : null;
        MemorySegment xs = MemorySegment.ofArray(x), qs = MemorySegment.ofArray(q), ds = MemorySegment.ofArray(d), ss = MemorySegment.ofArray(s);
        MemorySegment us = unsigned ? MemorySegment.ofArray(u) : null, s16s = unsigned ? MemorySegment.ofArray(s16) : null;
        Parallel.forRange(n, Math.max(1, 16384 / cols), (t0, t1) -> {
            try {
                QUANTIZE.invokeExact(xs.asSlice(4L * t0 * cols), (t1 - t0) * cols, qs.asSlice((long) t0 * cols),
                        ds.asSlice(4L * t0 * nb), ss.asSlice(4L * t0 * nb));
                if (unsigned) {
                    PREPARE_U8.invokeExact(qs.asSlice((long) t0 * cols), (long) (t1 - t0) * cols, us.asSlice((long) t0 * cols),
                            s16s.asSlice(4L * t0 * (cols / 16)));
                }
            } catch (Throwable t) {
                throw new IllegalStateException("native quantize failed", t);
            }
        });
        // Q4_0 reads the decode kernel's repacked copy (GBX_Q4_0_PACKED), so the mmap'd original
        // is not read by Q4_0 products at all once that exists; Q8_0 reads GGML's layout (GBX_Q8_0).
        // Q4_K/Q5_K read GGML's layout too; the type codes are gearbox_cpu.h's GBX_* layouts.
        int type = switch (w.type()) {
            case Q8_0 -> 0;
            case Q4_0 -> 1;
            case Q4_K -> 2;
            case Q5_K -> 3;
            case Q6_K -> 4;
            case Q3_K -> 5;
            case Q2_K -> 6;
            default -> throw new IllegalArgumentException("no native prefill kernel for " + w.type());
        };
        MemorySegment wq = type == 1 ? packedQ4(w) : w.data(), ys = MemorySegment.ofArray(out);
        long rb = w.rowBytes();
        MemorySegment xq = unsigned ? us : qs, xsum = unsigned ? s16s : ss;
        Parallel.forRange((rows + TILE_ROWS - 1) / TILE_ROWS, 1, (t0, t1) -> {
            int rc;
            try {
                rc = (int) GEMM.invokeExact(type, wq, rb, rows, cols, t0, t1, n, xq, ds, xsum, ys);
            } catch (Throwable t) {
                throw new IllegalStateException("native prefill product failed", t);
            }
            if (rc != 0) throw new OutOfMemoryError("native prefill product: no scratch buffer for " + cols + " columns");
        });
    }
}
