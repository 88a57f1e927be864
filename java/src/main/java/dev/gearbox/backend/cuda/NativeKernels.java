package dev.gearbox.backend.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_FLOAT;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Panama downcalls into libgearbox_cuda.so, one Java method per function of
 * native/include/gearbox_cuda.h. Device pointers and streams are plain {@code long} addresses
 * (from JavaCPP's cudaMalloc); 0 is NULL. Every non-zero return becomes a {@link CudaException}
 * carrying gbx_error_string's text, so no caller can forget to check.
 */
public final class NativeKernels {
    /** The header version this binding was written against. */
    public static final int API_VERSION = 4;

    // GBX_TYPE_* (GGUF ids)
    public static final int F32 = 0, F16 = 1, BF16 = 30;

    private static volatile NativeKernels instance;

    private final Path path;
    private final MethodHandle apiVersion, errorString, deviceCount, versions, deviceInfo, rowBytes,
            embed, matvec, dequantize, convertF32, addBias, rmsNorm, rope, swiglu, add,
            storeKv, attentionWorkspaceBytes, attention, sample,
            eventCreate, eventDestroy, eventRecord, eventElapsedMs, nvtxPush, nvtxPop;

    private NativeKernels(Path path) {
        this.path = path;
        if (!Files.isRegularFile(path)) throw new NativeLibraryMissingException(path, "does not exist");
        SymbolLookup lib;
        try {
            lib = SymbolLookup.libraryLookup(path, Arena.global());
        } catch (IllegalArgumentException e) {
            throw new NativeLibraryMissingException(path, "exists but cannot be loaded (" + e.getMessage()
                    + "; is libcudart.so.13 on LD_LIBRARY_PATH?)");
        }
        Linker linker = Linker.nativeLinker();
        var b = new Object() {
            MethodHandle h(String name, ValueLayout... args) {
                MemorySegment sym = lib.find(name).orElseThrow(() -> new NativeLibraryMissingException(path,
                        "has no function " + name + " (stale build of an older gearbox_cuda.h?)"));
                return linker.downcallHandle(sym, FunctionDescriptor.of(JAVA_INT, args));
            }
        };
        apiVersion = b.h("gbx_api_version");
        errorString = linker.downcallHandle(lib.find("gbx_error_string").orElseThrow(
                () -> new NativeLibraryMissingException(path, "has no function gbx_error_string")), FunctionDescriptor.of(ADDRESS, JAVA_INT));
        deviceCount = b.h("gbx_device_count", ADDRESS);
        versions = b.h("gbx_versions", ADDRESS, ADDRESS);
        deviceInfo = b.h("gbx_device_info", JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_INT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS);
        rowBytes = b.h("gbx_row_bytes", JAVA_INT, JAVA_LONG, ADDRESS);
        embed = b.h("gbx_embed", JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
        matvec = b.h("gbx_matvec", JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, ADDRESS, ADDRESS);
        dequantize = b.h("gbx_dequantize", JAVA_INT, ADDRESS, JAVA_INT, JAVA_LONG, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS);
        convertF32 = b.h("gbx_convert_f32", ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS);
        addBias = b.h("gbx_add_bias", ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS);
        rmsNorm = b.h("gbx_rms_norm", ADDRESS, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, JAVA_FLOAT, ADDRESS);
        rope = b.h("gbx_rope", ADDRESS, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS);
        swiglu = b.h("gbx_swiglu", ADDRESS, ADDRESS, JAVA_LONG, ADDRESS);
        add = b.h("gbx_add", ADDRESS, ADDRESS, JAVA_LONG, ADDRESS);
        storeKv = b.h("gbx_store_kv", ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, ADDRESS);
        attentionWorkspaceBytes = b.h("gbx_attention_workspace_bytes", JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS);
        attention = b.h("gbx_attention", ADDRESS, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT, ADDRESS,
                JAVA_INT, JAVA_INT, JAVA_INT, JAVA_FLOAT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, ADDRESS);
        sample = b.h("gbx_sample", ADDRESS, JAVA_INT, JAVA_FLOAT, JAVA_INT, JAVA_FLOAT, JAVA_FLOAT, ADDRESS, ADDRESS, ADDRESS, ADDRESS, ADDRESS);
        eventCreate = b.h("gbx_event_create", ADDRESS);
        eventDestroy = b.h("gbx_event_destroy", ADDRESS);
        eventRecord = b.h("gbx_event_record", ADDRESS, ADDRESS);
        eventElapsedMs = b.h("gbx_event_elapsed_ms", ADDRESS, ADDRESS, ADDRESS);
        nvtxPush = linker.downcallHandle(lib.find("gbx_nvtx_push").orElseThrow(
                () -> new NativeLibraryMissingException(path, "has no function gbx_nvtx_push")), FunctionDescriptor.ofVoid(ADDRESS));
        nvtxPop = linker.downcallHandle(lib.find("gbx_nvtx_pop").orElseThrow(
                () -> new NativeLibraryMissingException(path, "has no function gbx_nvtx_pop")), FunctionDescriptor.ofVoid());
        int v = apiVersion();
        if (v != API_VERSION) {
            throw new NativeLibraryMissingException(path, "has API version " + v + " but this Gearbox needs " + API_VERSION + "; rebuild it");
        }
    }

    /** The library at the configured path, loaded once per JVM. */
    public static NativeKernels load() {
        NativeKernels k = instance;
        if (k != null) return k;
        synchronized (NativeKernels.class) {
            if (instance == null) instance = new NativeKernels(NativeLibraryPath.resolve());
            return instance;
        }
    }

    /** Loads a library at an explicit path (tests). */
    public static NativeKernels load(Path path) {
        return new NativeKernels(path.toAbsolutePath());
    }

    public Path path() { return path; }

    private static MemorySegment p(long address) {
        return address == 0 ? MemorySegment.NULL : MemorySegment.ofAddress(address);
    }

    private void check(String fn, Object rc) {
        int code = (int) rc;
        if (code != 0) throw new CudaException(fn, code, errorString(code));
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    // ---- library, devices, errors ----

    public int apiVersion() {
        try {
            return (int) apiVersion.invokeExact();
        } catch (Throwable t) { throw rethrow(t); }
    }

    /** gbx_error_string(code): never null. */
    public String errorString(int code) {
        try {
            MemorySegment s = (MemorySegment) errorString.invokeExact(code);
            return s.equals(MemorySegment.NULL) ? "error " + code : s.reinterpret(4096).getString(0);
        } catch (Throwable t) { throw rethrow(t); }
    }

    /** The raw status of gbx_device_count and the count it wrote (0 on error): no exception, for probing. */
    public int[] deviceCountStatus() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment c = a.allocate(JAVA_INT);
            int rc = (int) deviceCount.invokeExact(c);
            return new int[] {rc, c.get(JAVA_INT, 0)};
        } catch (Throwable t) { throw rethrow(t); }
    }

    public int deviceCount() {
        int[] s = deviceCountStatus();
        if (s[0] != 0) throw new CudaException("gbx_device_count", s[0], errorString(s[0]));
        return s[1];
    }

    /** {runtime, driver} versions as CUDA encodes them; driver 0 means no driver. */
    public int[] versions() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment r = a.allocate(JAVA_INT), d = a.allocate(JAVA_INT);
            check("gbx_versions", (int) versions.invokeExact(r, d));
            return new int[] {r.get(JAVA_INT, 0), d.get(JAVA_INT, 0)};
        } catch (Throwable t) { throw rethrow(t); }
    }

    /** Device facts; also makes it the calling thread's current device. */
    public record DeviceInfo(long free, long total, String name, int ccMajor, int ccMinor, int smCount, int memClockKhz, int busWidthBits) {
        /** Peak memory bandwidth from clock and bus width (bytes/s). */
        public double peakBandwidth() { return 2.0 * memClockKhz * 1000.0 * busWidthBits / 8.0; }
    }

    public DeviceInfo deviceInfo(int device) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment free = a.allocate(JAVA_LONG), total = a.allocate(JAVA_LONG), name = a.allocate(256);
            MemorySegment maj = a.allocate(JAVA_INT), min = a.allocate(JAVA_INT), sm = a.allocate(JAVA_INT), clk = a.allocate(JAVA_INT), bus = a.allocate(JAVA_INT);
            check("gbx_device_info", (int) deviceInfo.invokeExact(device, free, total, name, 256, maj, min, sm, clk, bus));
            return new DeviceInfo(free.get(JAVA_LONG, 0), total.get(JAVA_LONG, 0), name.getString(0), maj.get(JAVA_INT, 0),
                    min.get(JAVA_INT, 0), sm.get(JAVA_INT, 0), clk.get(JAVA_INT, 0), bus.get(JAVA_INT, 0));
        } catch (Throwable t) { throw rethrow(t); }
    }

    public long rowBytes(int type, long cols) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG);
            check("gbx_row_bytes", (int) rowBytes.invokeExact(type, cols, out));
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) { throw rethrow(t); }
    }

    // ---- weights ----

    public void embed(int type, long table, int vocab, int cols, long tokens, int n, long out, long stream) {
        try {
            check("gbx_embed", (int) embed.invokeExact(type, p(table), vocab, cols, p(tokens), n, p(out), p(stream)));
        } catch (Throwable t) { throw rethrow(t); }
    }

    public void matvec(int type, long w, int rows, int cols, long x, int n, long y, long stream) {
        try {
            check("gbx_matvec", (int) matvec.invokeExact(type, p(w), rows, cols, p(x), n, p(y), p(stream)));
        } catch (Throwable t) { throw rethrow(t); }
    }

    public void dequantize(int type, long w, int cols, long row0, int rows, int outType, long out, long stream) {
        try {
            check("gbx_dequantize", (int) dequantize.invokeExact(type, p(w), cols, row0, rows, outType, p(out), p(stream)));
        } catch (Throwable t) { throw rethrow(t); }
    }

    public void convertF32(long x, long count, int outType, long out, long stream) {
        try {
            check("gbx_convert_f32", (int) convertF32.invokeExact(p(x), count, outType, p(out), p(stream)));
        } catch (Throwable t) { throw rethrow(t); }
    }

    // ---- elementwise and norms ----

    public void addBias(long x, long bias, int n, int dim, long stream) {
        try {
            check("gbx_add_bias", (int) addBias.invokeExact(p(x), p(bias), n, dim, p(stream)));
        } catch (Throwable t) { throw rethrow(t); }
    }

    public void rmsNorm(long in, long out, long gain, int rows, int dim, float eps, long stream) {
        try {
            check("gbx_rms_norm", (int) rmsNorm.invokeExact(p(in), p(out), p(gain), rows, dim, eps, p(stream)));
        } catch (Throwable t) { throw rethrow(t); }
    }

    public void rope(long x, int n, int heads, int headDim, int pos0, long dPos0, boolean neox, int dims, long freqs, long stream) {
        try {
            check("gbx_rope", (int) rope.invokeExact(p(x), n, heads, headDim, pos0, p(dPos0), neox ? 1 : 0, dims, p(freqs), p(stream)));
        } catch (Throwable t) { throw rethrow(t); }
    }

    public void swiglu(long gate, long up, long count, long stream) {
        try {
            check("gbx_swiglu", (int) swiglu.invokeExact(p(gate), p(up), count, p(stream)));
        } catch (Throwable t) { throw rethrow(t); }
    }

    public void add(long x, long y, long count, long stream) {
        try {
            check("gbx_add", (int) add.invokeExact(p(x), p(y), count, p(stream)));
        } catch (Throwable t) { throw rethrow(t); }
    }

    // ---- KV cache and attention ----

    public void storeKv(long kCache, long vCache, int capacity, int kvDim, long k, long v, int n, int pos0, long dPos0, long stream) {
        try {
            check("gbx_store_kv", (int) storeKv.invokeExact(p(kCache), p(vCache), capacity, kvDim, p(k), p(v), n, pos0, p(dPos0), p(stream)));
        } catch (Throwable t) { throw rethrow(t); }
    }

    public long attentionWorkspaceBytes(int n, int heads, int headDim, int maxLen) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_LONG);
            check("gbx_attention_workspace_bytes", (int) attentionWorkspaceBytes.invokeExact(n, heads, headDim, maxLen, out));
            return out.get(JAVA_LONG, 0);
        } catch (Throwable t) { throw rethrow(t); }
    }

    public void attention(long kCache, long vCache, int capacity, int kvDim, long q, int n, int pos0, long dPos0,
                          int heads, int kvHeads, int headDim, float scale, long workspace, long workspaceBytes, int maxLen,
                          long out, long stream) {
        try {
            check("gbx_attention", (int) attention.invokeExact(p(kCache), p(vCache), capacity, kvDim, p(q), n, pos0, p(dPos0),
                    heads, kvHeads, headDim, scale, p(workspace), workspaceBytes, maxLen, p(out), p(stream)));
        } catch (Throwable t) { throw rethrow(t); }
    }

    // ---- sampling ----

    /** {@code seed} (uint64), {@code counter} (int32), {@code token} (int32) and {@code logprob} (float, or 0 for none) are device addresses. */
    public void sample(long logits, int n, float temperature, int topK, float topP, float minP, long seed, long counter, long token,
                       long logprob, long stream) {
        try {
            check("gbx_sample", (int) sample.invokeExact(p(logits), n, temperature, topK, topP, minP, p(seed), p(counter), p(token),
                    p(logprob), p(stream)));
        } catch (Throwable t) { throw rethrow(t); }
    }

    // ---- profiling ----

    /** A new CUDA event (timing enabled), as a plain address. */
    public long eventCreate() {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(ADDRESS);
            check("gbx_event_create", (int) eventCreate.invokeExact(out));
            return out.get(ADDRESS, 0).address();
        } catch (Throwable t) { throw rethrow(t); }
    }

    public void eventDestroy(long event) {
        try {
            check("gbx_event_destroy", (int) eventDestroy.invokeExact(p(event)));
        } catch (Throwable t) { throw rethrow(t); }
    }

    public void eventRecord(long event, long stream) {
        try {
            check("gbx_event_record", (int) eventRecord.invokeExact(p(event), p(stream)));
        } catch (Throwable t) { throw rethrow(t); }
    }

    /** Milliseconds between two recorded events by the GPU's clock; waits for {@code end}. */
    public float eventElapsedMs(long start, long end) {
        try (Arena a = Arena.ofConfined()) {
            MemorySegment out = a.allocate(JAVA_FLOAT);
            check("gbx_event_elapsed_ms", (int) eventElapsedMs.invokeExact(p(start), p(end), out));
            return out.get(JAVA_FLOAT, 0);
        } catch (Throwable t) { throw rethrow(t); }
    }

    /** Pushes an NVTX range named by a NUL-terminated string (kept alive by the caller). */
    public void nvtxPush(MemorySegment name) {
        try {
            nvtxPush.invokeExact(name);
        } catch (Throwable t) { throw rethrow(t); }
    }

    public void nvtxPop() {
        try {
            nvtxPop.invokeExact();
        } catch (Throwable t) { throw rethrow(t); }
    }
}
