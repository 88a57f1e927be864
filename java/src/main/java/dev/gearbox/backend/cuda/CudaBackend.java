package dev.gearbox.backend.cuda;

import dev.gearbox.backend.Backend;
import dev.gearbox.backend.KVCache;
import dev.gearbox.backend.Rope;
import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.gguf.TensorInfo;
import dev.gearbox.profile.Profiler;
import dev.gearbox.sample.TokenChoice;
import dev.gearbox.tensor.GGMLType;
import dev.gearbox.tensor.Quantizer;
import org.bytedeco.cuda.cublas.cublasContext;
import org.bytedeco.cuda.cudart.CUgraphExec_st;
import org.bytedeco.cuda.cudart.CUgraph_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cublas;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;

import java.lang.foreign.MemorySegment;
import java.lang.ref.Cleaner;
import java.lang.foreign.ValueLayout;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.ArrayList;
import java.util.List;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.Locale;
import java.util.Map;

/**
 * The CUDA backend: every weight uploaded once (matrices exactly as stored in the GGUF file, 1-D
 * gains and biases dequantized to F32), activations and the KV cache in device memory, all work
 * enqueued on one stream. Decode-sized products (n <= {@value #MATVEC_MAX_ROWS} tokens) run our
 * dequantizing mat-vec kernel; prefill dequantizes the weight a tile of rows at a time and
 * multiplies with cuBLAS (F32 for F32/F16/BF16 weights, whose comparisons with the CPU are held to
 * 1e-3; BF16 tensor cores for quantized weights, held to 1e-2). Only {@link #read} waits for the
 * device. Memory, streams and cuBLAS go through JavaCPP (CUDA 13.0 functions only); kernels go
 * through {@link NativeKernels}; both see the same plain addresses.
 */
public final class CudaBackend implements Backend {
    /** Up to this many token rows a product uses the mat-vec kernel, beyond it dequantize + GEMM. */
    static final int MATVEC_MAX_ROWS = 8;
    /** Bytes of one dequantized weight tile for the GEMM path. */
    static final long TILE_BYTES = 64L << 20;
    /** Device memory kept free beyond the weights: activations, tiles, cuBLAS workspace, CUDA's own. */
    static final long WORKING_RESERVE = 768L << 20;

    private final int ordinal;
    private final CudaDevice device;
    private final NativeKernels k;
    private final CUstream_st stream;
    private final long s; // the stream as a plain address for the kernels
    private final cublasContext blas;
    private final FloatPointer one, zero; // made after detection: JavaCPP's natives may be absent
    // Shared by the backend and its lanes (see lane()): device memory is one pool for all streams.
    private final Set<Long> allocations;
    private final List<CudaBackend> lanes;   // lanes 1..n, made on demand; the backend itself is lane 0
    private final int laneIndex;
    private final Map<float[], Long> ropeFreqs = new IdentityHashMap<>();
    private final Map<GGUFFile, Boolean> checkedFiles;
    private long tile, tileBytes, act16, act16Bytes, tokens, tokenCount;
    private long pinned, pinnedBytes;
    private boolean closed;

    // ---- decode graphs: see DecodeStep ----
    private final boolean graphs;
    private DecodeStep step;          // the decode step being recorded, or null
    // Device slots a decode step reads and writes, so a captured graph replays with new values:
    // int32 token, int32 position, int32 draw counter, int32 chosen token, float its logprob, pad, uint64 seed.
    private static final int SLOT_TOKEN = 0, SLOT_POS = 4, SLOT_COUNTER = 8, SLOT_CHOSEN = 12, SLOT_LOGPROB = 16,
            SLOT_SEED = 24, SLOT_BYTES = 32;
    private long dStep;
    private final Map<DecodeStep.Signature, CUgraphExec_st> graphCache = new LinkedHashMap<>(16, 0.75f, true);
    private static final int MAX_GRAPHS = 8;
    private long graphLaunches, graphCaptures;
    private final List<Long> deferredFrees = new ArrayList<>();

    record CudaBuffer(long ptr, long size) implements Buffer {}

    /** A weight on the device: a matrix as stored (rows x cols of its type) or an F32 vector. */
    record CudaWeight(TensorInfo info, long ptr, int rows, int cols) implements Weight {}

    final class CudaKV implements KVCache {
        final int layers, capacity, kvDim;
        final long base;
        long workspace, workspaceBytes;
        private boolean closed;

        CudaKV(int layers, int capacity, int kvDim) {
            this.layers = layers;
            this.capacity = capacity;
            this.kvDim = kvDim;
            this.base = malloc(bytes(), "KV cache of " + layers + " layers x " + capacity + " positions x " + kvDim);
        }

        long keys(int layer) { return base + (2L * layer) * capacity * kvDim * Float.BYTES; }
        long values(int layer) { return base + (2L * layer + 1) * capacity * kvDim * Float.BYTES; }

        public int layers() { return layers; }
        public int capacity() { return capacity; }
        public int kvDim() { return kvDim; }
        public long bytes() { return 2L * layers * capacity * kvDim * Float.BYTES; }

        public void close() {
            synchronized (CudaBackend.this) {
                if (closed || CudaBackend.this.closed) return;
                closed = true;
                CudaRuntime.use(ordinal);
                if (step != null) finishStep(); // it may write this cache; run it before the memory goes
                free(base);
                if (workspace != 0) free(workspace);
            }
        }
    }

    /**
     * Opens device {@code ordinal}. Throws {@link NoCudaDeviceException} without a usable device and
     * {@link NativeLibraryMissingException} without the kernel library, before allocating anything.
     */
    public CudaBackend(int ordinal) {
        this(ordinal, !"false".equalsIgnoreCase(System.getProperty("gearbox.cuda.graphs", "true")));
    }

    /** {@code graphs}: capture single-token decode steps in CUDA graphs and replay them (the default). */
    public CudaBackend(int ordinal, boolean graphs) {
        this.graphs = graphs;
        int count = CudaRuntime.deviceCount();
        if (ordinal < 0 || ordinal >= count) {
            throw new NoCudaDeviceException("device " + ordinal + " requested but " + count + " device" + (count == 1 ? " is" : "s are") + " present");
        }
        this.k = NativeKernels.load();
        this.ordinal = ordinal;
        this.laneIndex = 0;
        this.allocations = java.util.Collections.synchronizedSet(new LinkedHashSet<>());
        this.checkedFiles = java.util.Collections.synchronizedMap(new IdentityHashMap<>());
        this.lanes = new ArrayList<>();
        CudaRuntime.use(ordinal);
        // Facts from our own library (built against CUDA 13.0's headers), not JavaCPP's 13.1 struct layout.
        NativeKernels.DeviceInfo info = k.deviceInfo(ordinal);
        this.device = new CudaDevice(ordinal, info.name(), info.free(), info.total(), info.ccMajor(), info.ccMinor());
        this.one = new FloatPointer(1f);
        this.zero = new FloatPointer(0f);
        this.stream = new CUstream_st();
        this.s = openStream();
        this.blas = openBlas();
        NvtxRanges.install(k);
    }

    /** Lane {@code index} of {@code base}: the same device, weights and memory pool; its own stream and state. */
    private CudaBackend(CudaBackend base, int index) {
        this.graphs = base.graphs;
        this.k = base.k;
        this.ordinal = base.ordinal;
        this.laneIndex = index;
        this.allocations = base.allocations;
        this.checkedFiles = base.checkedFiles;
        this.lanes = base.lanes;
        this.device = base.device;
        CudaRuntime.use(ordinal);
        this.one = new FloatPointer(1f);
        this.zero = new FloatPointer(0f);
        this.stream = new CUstream_st();
        this.s = openStream();
        this.blas = openBlas();
    }

    /**
     * Lane {@code index} for a scheduler lane: the same weights (uploaded once, shared), its own
     * CUDA stream, cuBLAS handle, scratch buffers and decode graphs, so the lanes of a tier run
     * on the GPU concurrently instead of taking turns on one stream. Buffers and KV caches made
     * through a lane must be used through that lane. Lane 0 is this backend; closing it closes
     * every lane.
     */
    @Override
    public Backend lane(int index) {
        if (index < 0) throw new IllegalArgumentException("lane index must be >= 0, got " + index);
        if (laneIndex != 0) throw new IllegalStateException("lanes are made from the backend itself, not from lane " + laneIndex);
        if (index == 0) return this;
        synchronized (lanes) {
            if (closed) throw new IllegalStateException("the CUDA backend " + name() + " is closed");
            while (lanes.size() < index) lanes.add(new CudaBackend(this, lanes.size() + 1));
            return lanes.get(index - 1);
        }
    }

    private long openStream() {
        // Non-blocking: nothing on the legacy default stream can join a graph capture by accident,
        // and lanes' streams do not wait for each other.
        check("cudaStreamCreateWithFlags", cudart.cudaStreamCreateWithFlags(stream, cudart.cudaStreamNonBlocking));
        return stream.address();
    }

    private cublasContext openBlas() {
        cublasContext b = new cublasContext();
        int st = cublas.cublasCreate_v2(b);
        if (st != cublas.CUBLAS_STATUS_SUCCESS) {
            cudart.cudaStreamDestroy(stream);
            throw new CudaException("cublasCreate", st, "cuBLAS status " + st);
        }
        blasCheck("cublasSetStream", cublas.cublasSetStream_v2(b, stream));
        return b;
    }

    // ---- profiling: see KernelTimer ----

    private KernelTimer timer;

    /** The kernel timer while the profiler is on and no decode step is being recorded, else null. */
    private KernelTimer timing() {
        if (!Profiler.active() || step != null) return null;
        if (timer == null) timer = new KernelTimer(k, s, name() + " stream", device.peakBandwidth());
        return timer;
    }

    private static void end(KernelTimer t) {
        if (t != null) t.end();
    }

    /** After a synchronisation: timed kernels become profiler spans. */
    private void flushTimes() {
        if (timer != null) timer.flush();
    }

    public CudaBackend() { this(0); }

    /** The device this backend runs on, as it was when opened. */
    public CudaDevice device() { return device; }

    @Override
    public String name() { return laneIndex == 0 ? "cuda:" + ordinal : "cuda:" + ordinal + " lane " + laneIndex; }

    // ---- memory ----

    private static void check(String call, int err) { CudaRuntime.check(call, err); }

    /** Every call starts here: a closed backend is an error, and the device becomes current for this thread. */
    private void enter() {
        if (closed) throw new IllegalStateException("the CUDA backend " + name() + " is closed");
        CudaRuntime.use(ordinal);
    }

    /** Like enter(), for calls that cannot be recorded: a pending decode step is launched first. */
    private void enterEager() {
        enter();
        if (step != null) finishStep();
    }

    /** For element counts that do not say how many tokens: any call while a step is recorded belongs to it. */
    private boolean enterRecording() {
        enter();
        return step != null;
    }

    /** True when this call belongs to the decode step being recorded. */
    private boolean recording(int n) {
        enter();
        if (step == null) return false;
        if (n == 1) return true;
        finishStep();
        return false;
    }

    /** Launches the recorded step: a cached graph for its signature, a new capture, or plain launches. */
    private void finishStep() {
        DecodeStep st = step;
        step = null;
        try {
            launch(st);
        } finally {
            for (long ptr : deferredFrees) free(ptr);
            deferredFrees.clear();
        }
    }

    private long stepSlots() {
        if (dStep == 0) dStep = malloc(SLOT_BYTES, "decode step slots");
        return dStep;
    }

    /** Writes a step's inputs to the device slots (synchronously: the pinned staging is reused). */
    private void uploadSlots(int token, int pos, int counter, long seed) {
        long h = pinned(SLOT_BYTES);
        MemorySegment seg = MemorySegment.ofAddress(h).reinterpret(SLOT_BYTES);
        seg.fill((byte) 0);
        seg.set(ValueLayout.JAVA_INT, SLOT_TOKEN, token);
        seg.set(ValueLayout.JAVA_INT, SLOT_POS, pos);
        seg.set(ValueLayout.JAVA_INT, SLOT_COUNTER, counter);
        seg.set(ValueLayout.JAVA_LONG, SLOT_SEED, seed);
        upload(stepSlots(), h, SLOT_BYTES);
    }

    private void launch(DecodeStep st) {
        uploadSlots(st.token, st.position(), st.drawNumber(), st.seed());
        if (!st.graphable()) {
            for (DecodeStep.Op op : st.ops()) op.run(false);
            return;
        }
        DecodeStep.Signature sig = st.signature();
        CUgraphExec_st exec = graphCache.get(sig);
        if (exec == null) {
            check("cudaStreamBeginCapture", cudart.cudaStreamBeginCapture(stream, cudart.cudaStreamCaptureModeThreadLocal));
            CUgraph_st graph = new CUgraph_st();
            try {
                for (DecodeStep.Op op : st.ops()) op.run(true);
            } catch (RuntimeException e) {
                cudart.cudaStreamEndCapture(stream, graph);
                if (!graph.isNull()) cudart.cudaGraphDestroy(graph);
                throw e;
            }
            check("cudaStreamEndCapture", cudart.cudaStreamEndCapture(stream, graph));
            exec = new CUgraphExec_st();
            int err = cudart.cudaGraphInstantiate(exec, graph, 0L);
            cudart.cudaGraphDestroy(graph);
            check("cudaGraphInstantiate", err);
            graphCaptures++;
            if (graphCache.size() >= MAX_GRAPHS) {
                var eldest = graphCache.entrySet().iterator().next();
                cudart.cudaGraphExecDestroy(eldest.getValue());
                graphCache.remove(eldest.getKey());
            }
            graphCache.put(sig, exec);
        }
        check("cudaGraphLaunch", cudart.cudaGraphLaunch(exec, stream));
        graphLaunches++;
    }

    /** Device address of the step's position (int32), for kernels run from a recorded step. */
    private long dPos() { return dStep + SLOT_POS; }

    /** {captures, launches} of decode graphs so far (tests and bench notes). */
    public synchronized long[] graphCounts() { return new long[] {graphCaptures, graphLaunches}; }

    private static void blasCheck(String call, int status) {
        if (status != cublas.CUBLAS_STATUS_SUCCESS) throw new CudaException(call, status, "cuBLAS status " + status);
    }

    private synchronized long malloc(long bytes, String what) {
        if (closed) throw new IllegalStateException("the CUDA backend is closed");
        Pointer p = new Pointer();
        int err = cudart.cudaMalloc(p, Math.max(bytes, 4));
        if (err == cudart.cudaErrorMemoryAllocation) {
            // Buffers of sequences nobody holds any more are freed by a Cleaner; give it a chance.
            System.gc();
            try {
                wait(50); // lets the Cleaner's thread take this lock and free them
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            err = cudart.cudaMalloc(p, Math.max(bytes, 4));
        }
        if (err != cudart.cudaSuccess) {
            long[] mem = CudaRuntime.memInfo();
            throw new CudaException("cudaMalloc of " + bytes + " bytes for " + what + " on " + name() + " (" + mem[0] + " bytes free)",
                    err, CudaRuntime.errorString(err));
        }
        allocations.add(p.address());
        return p.address();
    }

    private synchronized void free(long ptr) {
        if (allocations.remove(ptr)) cudart.cudaFree(new DevicePointer(ptr));
    }

    /** Host to device, synchronous (the source may be a mapped file or reused staging). */
    private void upload(long dst, long hostAddress, long bytes) {
        check("cudaMemcpy H2D", cudart.cudaMemcpyAsync(new DevicePointer(dst), new DevicePointer(hostAddress), bytes, cudart.cudaMemcpyHostToDevice, stream));
        sync();
    }

    private void sync() {
        check("cudaStreamSynchronize", cudart.cudaStreamSynchronize(stream));
    }

    private long pinned(long bytes) {
        if (bytes > pinnedBytes) {
            if (pinned != 0) cudart.cudaFreeHost(new DevicePointer(pinned));
            Pointer p = new Pointer();
            check("cudaMallocHost", cudart.cudaMallocHost(p, bytes));
            pinned = p.address();
            pinnedBytes = bytes;
        }
        return pinned;
    }

    private long uploadFloats(float[] v) {
        long bytes = (long) v.length * Float.BYTES;
        long d = malloc(bytes, "a vector");
        long h = pinned(bytes);
        MemorySegment.copy(v, 0, MemorySegment.ofAddress(h).reinterpret(bytes), ValueLayout.JAVA_FLOAT, 0, v.length);
        upload(d, h, bytes);
        return d;
    }

    // ---- fit check ----

    /** Device bytes a model's weights take here: matrices as stored, vectors as F32. */
    public static long weightBytesOnDevice(GGUFFile file) {
        long total = 0;
        for (TensorInfo t : file.tensors().values()) total += t.shape().length == 1 ? t.elementCount() * Float.BYTES : t.byteSize();
        return total;
    }

    /** Refuses a model whose weights plus working memory exceed the device's free memory, naming both. */
    private void checkFits(GGUFFile file) {
        if (checkedFiles.put(file, Boolean.TRUE) != null) return;
        String refusal = fitRefusal(String.valueOf(file.path().getFileName()), name() + " " + device.name(),
                weightBytesOnDevice(file), CudaRuntime.memInfo()[0]);
        if (refusal != null) throw new IllegalStateException(refusal);
    }

    /** Null when {@code weightBytes} plus the working reserve fit in {@code free}, else the message that refuses the model. */
    static String fitRefusal(String model, String device, long weightBytes, long free) {
        long need = weightBytes + WORKING_RESERVE;
        if (need <= free) return null;
        return String.format(Locale.ROOT,
                "%s does not fit on %s: needs %d bytes (%.2f GiB: %.2f GiB of weights + %.2f GiB working memory) but %d bytes (%.2f GiB) are free",
                model, device, need, need / 1073741824.0, weightBytes / 1073741824.0, WORKING_RESERVE / 1073741824.0, free, free / 1073741824.0);
    }

    // ---- Backend ----

    @Override
    public synchronized Weight load(GGUFFile file, TensorInfo t) {
        enterEager();
        checkFits(file);
        if (t.shape().length == 1) {
            int n = Math.toIntExact(t.elementCount());
            float[] v = new float[n];
            Quantizer.dequantize(t.type(), file.data(t), v, 0, n);
            return new CudaWeight(t, uploadFloats(v), 1, n);
        }
        int cols = Math.toIntExact(t.dim(0));
        int rows = Math.toIntExact(t.elementCount() / cols);
        MemorySegment data = file.data(t);
        long d = malloc(data.byteSize(), "tensor " + t.name());
        upload(d, data.address(), data.byteSize());
        return new CudaWeight(t, d, rows, cols);
    }

    private static long p(Buffer b) { return ((CudaBuffer) b).ptr; }
    private static CudaWeight w(Weight w) { return (CudaWeight) w; }
    private static int type(CudaWeight w) { return w.info.type().id(); }
    private static long f(long ptr, long floats) { return ptr + floats * Float.BYTES; }

    /**
     * A zeroed device buffer. The Backend seam has no free for buffers (the CPU's are garbage
     * collected), so a Cleaner frees the device memory once the buffer is unreachable; close()
     * frees whatever is left.
     */
    @Override
    public synchronized Buffer allocate(long floats) {
        enterEager();
        long d = malloc(floats * Float.BYTES, "a buffer of " + floats + " floats");
        check("cudaMemsetAsync", cudart.cudaMemsetAsync(new DevicePointer(d), 0, floats * Float.BYTES, stream));
        CudaBuffer b = new CudaBuffer(d, floats);
        CLEANER.register(b, () -> release(d));
        return b;
    }

    private static final Cleaner CLEANER = Cleaner.create();

    /** From the Cleaner's thread: frees one buffer unless close() already did. cudaFree waits for queued work. */
    private void release(long ptr) {
        synchronized (this) {
            if (closed || !allocations.contains(ptr)) return;
            if (step != null) {
                // a recorded step may still name it (an abandoned one would launch later): free after it runs
                deferredFrees.add(ptr);
                return;
            }
            CudaRuntime.use(ordinal);
            free(ptr);
        }
    }

    @Override
    public synchronized void embed(Weight table, int[] ids, Buffer out) {
        enterEager();
        CudaWeight t = w(table);
        // While profiling, every kernel is launched and timed on its own instead of replayed in a graph.
        if (graphs && ids.length == 1 && !Profiler.active()) {
            // a decode step begins: the token goes to the device with the position when the step runs
            step = new DecodeStep(ids[0]);
            long o = p(out);
            long tok = stepSlots() + SLOT_TOKEN;
            step.add(dp -> k.embed(type(t), t.ptr, t.rows, t.cols, tok, 1, o, s), 1, type(t), t.ptr, t.rows, t.cols, tok, o);
            return;
        }
        if (ids.length > tokenCount) {
            if (tokens != 0) free(tokens);
            tokens = malloc((long) ids.length * Integer.BYTES, "token ids");
            tokenCount = ids.length;
        }
        long bytes = (long) ids.length * Integer.BYTES;
        long h = pinned(bytes);
        MemorySegment.copy(ids, 0, MemorySegment.ofAddress(h).reinterpret(bytes), ValueLayout.JAVA_INT, 0, ids.length);
        upload(tokens, h, bytes);
        KernelTimer tm = timing();
        if (tm != null) tm.begin("embed", 4L * ids.length * t.cols * 2, -1);
        k.embed(type(t), t.ptr, t.rows, t.cols, tokens, ids.length, p(out), s);
        end(tm);
    }

    @Override
    public synchronized void matmul(Weight weight, Buffer x, int n, Buffer out) {
        CudaWeight m = w(weight);
        if (recording(n)) {
            long xp = p(x), yp = p(out);
            step.add(dp -> k.matvec(type(m), m.ptr, m.rows, m.cols, xp, 1, yp, s), 2, type(m), m.ptr, m.rows, m.cols, xp, yp);
            return;
        }
        KernelTimer tm = timing();
        if (tm != null) {
            tm.begin(n <= MATVEC_MAX_ROWS ? "matvec" : "matmul", m.info.byteSize() + 4L * n * (m.rows + m.cols), 2L * n * m.rows * m.cols);
        }
        try {
            matmulLaunch(m, x, n, out);
        } finally {
            end(tm);
        }
    }

    private void matmulLaunch(CudaWeight m, Buffer x, int n, Buffer out) {
        if (n <= MATVEC_MAX_ROWS) {
            k.matvec(type(m), m.ptr, m.rows, m.cols, p(x), n, p(out), s);
            return;
        }
        GGMLType t = m.info.type();
        boolean exact = t == GGMLType.F32 || t == GGMLType.F16 || t == GGMLType.BF16;
        int tileType = exact ? NativeKernels.F32 : NativeKernels.BF16;
        int cudaType = exact ? cudart.CUDA_R_32F : cudart.CUDA_R_16BF;
        int elem = exact ? 4 : 2;
        long xin = p(x);
        if (!exact) {
            long need = (long) n * m.cols * 2;
            if (need > act16Bytes) {
                if (act16 != 0) free(act16);
                act16 = malloc(need, "BF16 activations");
                act16Bytes = need;
            }
            k.convertF32(p(x), (long) n * m.cols, NativeKernels.BF16, act16, s);
            xin = act16;
        }
        int tileRows = (int) Math.max(1, Math.min(m.rows, TILE_BYTES / ((long) m.cols * elem)));
        if (t == GGMLType.F32) {
            gemm(m.ptr, cudart.CUDA_R_32F, m.rows, n, m.cols, xin, p(out), m.rows);
            return;
        }
        long need = (long) tileRows * m.cols * elem;
        if (need > tileBytes) {
            if (tile != 0) free(tile);
            tile = malloc(need, "a dequantized weight tile");
            tileBytes = need;
        }
        for (int r0 = 0; r0 < m.rows; r0 += tileRows) {
            int rows = Math.min(tileRows, m.rows - r0);
            k.dequantize(type(m), m.ptr, m.cols, r0, rows, tileType, tile, s);
            gemm(tile, cudaType, rows, n, m.cols, xin, f(p(out), r0), m.rows);
        }
    }

    /** C (F32, n rows of ldc, column-major ldc x n) = A^T B: A is rows x cols row-major, B n x cols row-major. */
    private void gemm(long a, int type, int rows, int n, int cols, long b, long c, int ldc) {
        blasCheck("cublasGemmEx", cublas.cublasGemmEx(blas, cublas.CUBLAS_OP_T, cublas.CUBLAS_OP_N, rows, n, cols,
                one, new DevicePointer(a), type, cols, new DevicePointer(b), type, cols,
                zero, new DevicePointer(c), cudart.CUDA_R_32F, ldc, cublas.CUBLAS_COMPUTE_32F, cublas.CUBLAS_GEMM_DEFAULT));
    }

    @Override
    public synchronized void addBias(Buffer x, Weight b, int n, int dim) {
        long xp = p(x), bp = w(b).ptr;
        if (recording(n)) {
            step.add(dp -> k.addBias(xp, bp, 1, dim, s), 3, xp, bp, dim);
            return;
        }
        KernelTimer tm = timing();
        if (tm != null) tm.begin("add_bias", 4L * (2L * n * dim + dim), (long) n * dim);
        k.addBias(xp, bp, n, dim, s);
        end(tm);
    }

    @Override
    public synchronized void rmsNorm(Buffer in, Buffer out, Weight gain, int rows, int dim, float eps) {
        long ip = p(in), op = p(out), gp = w(gain).ptr;
        if (step != null && rows <= 64 && enterRecording()) {
            // one token's rows (1 for the hidden state, heads for Qwen3's per-head q/k norms)
            step.add(dp -> k.rmsNorm(ip, op, gp, rows, dim, eps, s), 4, ip, op, gp, rows, dim, Float.floatToIntBits(eps));
            return;
        }
        enterEager();
        KernelTimer tm = timing();
        if (tm != null) tm.begin("rms_norm", 4L * (2L * rows * dim + dim), 4L * rows * dim);
        k.rmsNorm(ip, op, gp, rows, dim, eps, s);
        end(tm);
    }

    @Override
    public synchronized void rope(Buffer x, int n, int heads, int headDim, int pos0, Rope rope) {
        boolean rec = recording(n);
        if (rec) step.position(pos0);
        Long freqs = ropeFreqs.get(rope.freqs());
        if (freqs == null) {
            freqs = uploadFloats(rope.freqs());
            ropeFreqs.put(rope.freqs(), freqs);
        }
        long xp = p(x), fp = freqs;
        if (rec) {
            step.add(dp -> k.rope(xp, 1, heads, headDim, pos0, dp ? dPos() : 0, rope.neox(), rope.dims(), fp, s),
                    5, xp, heads, headDim, rope.neox() ? 1 : 0, rope.dims(), fp);
            return;
        }
        KernelTimer tm = timing();
        if (tm != null) tm.begin("rope", 8L * n * heads * headDim, 3L * n * heads * headDim);
        k.rope(xp, n, heads, headDim, pos0, 0, rope.neox(), rope.dims(), fp, s);
        end(tm);
    }

    @Override
    public synchronized void storeKV(KVCache cache, int layer, Buffer kb, Buffer vb, int n, int pos0) {
        CudaKV kv = (CudaKV) cache;
        long kc = kv.keys(layer), vc = kv.values(layer), kp = p(kb), vp = p(vb);
        if (recording(n)) {
            step.position(pos0);
            step.add(dp -> k.storeKv(kc, vc, kv.capacity, kv.kvDim, kp, vp, 1, pos0, dp ? dPos() : 0, s), 6, kc, vc, kv.capacity, kv.kvDim, kp, vp);
            return;
        }
        KernelTimer tm = timing();
        if (tm != null) tm.begin("store_kv", 16L * n * kv.kvDim, -1);
        k.storeKv(kc, vc, kv.capacity, kv.kvDim, kp, vp, n, pos0, 0, s);
        end(tm);
    }

    @Override
    public synchronized void attention(KVCache cache, int layer, Buffer q, int n, int pos0, int heads, int kvHeads, int headDim, float scale, Buffer out) {
        boolean rec = recording(n);
        CudaKV kv = (CudaKV) cache;
        long ws = 0, wsBytes = 0;
        int maxLen = 0;
        if (n == 1) {
            maxLen = kv.capacity;
            wsBytes = k.attentionWorkspaceBytes(1, heads, headDim, maxLen);
            if (wsBytes > kv.workspaceBytes) {
                if (kv.workspace != 0) free(kv.workspace);
                kv.workspace = malloc(wsBytes, "attention workspace");
                kv.workspaceBytes = wsBytes;
            }
            ws = kv.workspace;
        }
        long kc = kv.keys(layer), vc = kv.values(layer), qp = p(q), op = p(out), wsp = ws, wsb = wsBytes;
        int ml = maxLen;
        if (rec) {
            step.position(pos0);
            step.add(dp -> k.attention(kc, vc, kv.capacity, kv.kvDim, qp, 1, pos0, dp ? dPos() : 0, heads, kvHeads, headDim, scale, wsp, wsb, ml, op, s),
                    7, kc, vc, kv.capacity, kv.kvDim, qp, heads, kvHeads, headDim, Float.floatToIntBits(scale), wsp, wsb, ml, op);
            return;
        }
        KernelTimer tm = timing();
        if (tm != null) {
            long ctx = pos0 + n; // keys and values read once per query block, q read and out written
            tm.begin("attention", 8L * ctx * kv.kvDim + 8L * n * heads * headDim, 4L * heads * headDim * n * ctx);
        }
        k.attention(kc, vc, kv.capacity, kv.kvDim, qp, n, pos0, 0, heads, kvHeads, headDim, scale, ws, wsBytes, maxLen, op, s);
        end(tm);
    }

    @Override
    public synchronized void swiglu(Buffer gate, Buffer up, long count) {
        long gp = p(gate), up_ = p(up);
        if (step != null && enterRecording()) {
            step.add(dp -> k.swiglu(gp, up_, count, s), 8, gp, up_, count);
            return;
        }
        enterEager();
        KernelTimer tm = timing();
        if (tm != null) tm.begin("swiglu", 12L * count, 6L * count);
        k.swiglu(gp, up_, count, s);
        end(tm);
    }

    @Override
    public synchronized void add(Buffer x, Buffer y, long count) {
        long xp = p(x), yp = p(y);
        if (step != null && enterRecording()) {
            step.add(dp -> k.add(xp, yp, count, s), 9, xp, yp, count);
            return;
        }
        enterEager();
        KernelTimer tm = timing();
        if (tm != null) tm.begin("add", 12L * count, count);
        k.add(xp, yp, count, s);
        end(tm);
    }

    @Override
    public synchronized void copy(Buffer src, long srcOff, Buffer dst, long dstOff, long count) {
        enterEager();
        KernelTimer tm = timing();
        if (tm != null) tm.begin("copy", 8L * count, -1);
        check("cudaMemcpyAsync D2D", cudart.cudaMemcpyAsync(new DevicePointer(f(p(dst), dstOff)), new DevicePointer(f(p(src), srcOff)),
                count * Float.BYTES, cudart.cudaMemcpyDeviceToDevice, stream));
        end(tm);
    }

    @Override
    public synchronized void read(Buffer b, long offset, float[] dst, int dstOff, int count) {
        enterEager(); // launches a recorded decode step (as a graph) before reading its result
        long bytes = (long) count * Float.BYTES;
        long h = pinned(bytes);
        check("cudaMemcpyAsync D2H", cudart.cudaMemcpyAsync(new DevicePointer(h), new DevicePointer(f(p(b), offset)), bytes,
                cudart.cudaMemcpyDeviceToHost, stream));
        sync(); // also where errors of earlier kernels surface
        flushTimes();
        MemorySegment.copy(MemorySegment.ofAddress(h).reinterpret(bytes), ValueLayout.JAVA_FLOAT, 0, dst, dstOff, count);
    }

    @Override
    public boolean choosesOnDevice() { return true; }

    /**
     * Chooses on the device (gbx_sample) and brings back 8 bytes: the token and its log-probability.
     * In a recorded decode step the choice joins the step's graph; its seed and draw number travel
     * with the step's token and position.
     */
    @Override
    public synchronized TokenChoice.Choice choose(Buffer logits, long offset, int n, TokenChoice c, int draw) {
        long lp = f(p(logits), offset);
        float t = c.temperature(), topP = c.topP(), minP = c.minP();
        int topK = c.topK();
        if (step != null && enterRecording()) {
            step.draw(c.seed(), draw);
            long slots = dStep;
            step.add(dp -> k.sample(lp, n, t, topK, topP, minP, slots + SLOT_SEED, slots + SLOT_COUNTER, slots + SLOT_CHOSEN,
                    slots + SLOT_LOGPROB, s), 10, lp, n, Float.floatToIntBits(t), topK, Float.floatToIntBits(topP), Float.floatToIntBits(minP));
            finishStep();
        } else {
            enterEager();
            uploadSlots(0, 0, draw, c.seed());
            long slots = dStep;
            KernelTimer tm = timing();
            if (tm != null) tm.begin("sample", 4L * n, -1);
            k.sample(lp, n, t, topK, topP, minP, slots + SLOT_SEED, slots + SLOT_COUNTER, slots + SLOT_CHOSEN, slots + SLOT_LOGPROB, s);
            end(tm);
        }
        long h = pinned(8);
        check("cudaMemcpyAsync D2H", cudart.cudaMemcpyAsync(new DevicePointer(h), new DevicePointer(dStep + SLOT_CHOSEN), 8,
                cudart.cudaMemcpyDeviceToHost, stream));
        sync(); // also where errors of the step's kernels surface
        flushTimes();
        MemorySegment seg = MemorySegment.ofAddress(h).reinterpret(8);
        return new TokenChoice.Choice(seg.get(ValueLayout.JAVA_INT, 0), seg.get(ValueLayout.JAVA_FLOAT, 4));
    }

    /**
     * One round trip for a batched step: every row's seed and draw number go up in one copy, one
     * gbx_sample per row runs on the stream, and the rows' tokens and log-probabilities come back in one.
     */
    @Override
    public synchronized TokenChoice.Choice[] chooseRows(Buffer logits, int n, int[] rows, TokenChoice[] choices, int[] draws) {
        enterEager();
        int count = rows.length;
        if (count == 0) return new TokenChoice.Choice[0];
        long bytes = (long) count * SLOT_BYTES;
        if (bytes > rowSlotBytes) {
            if (rowSlots != 0) free(rowSlots);
            rowSlots = malloc(bytes, "token choice slots for " + count + " rows");
            rowSlotBytes = bytes;
        }
        long h = pinned(bytes);
        MemorySegment seg = MemorySegment.ofAddress(h).reinterpret(bytes);
        seg.fill((byte) 0);
        for (int i = 0; i < count; i++) {
            seg.set(ValueLayout.JAVA_INT, (long) i * SLOT_BYTES + SLOT_COUNTER, draws[i]);
            seg.set(ValueLayout.JAVA_LONG, (long) i * SLOT_BYTES + SLOT_SEED, choices[i].seed());
        }
        upload(rowSlots, h, bytes);
        KernelTimer tm = timing();
        if (tm != null) tm.begin("sample", 4L * n * count, -1);
        for (int i = 0; i < count; i++) {
            TokenChoice c = choices[i];
            long slot = rowSlots + (long) i * SLOT_BYTES;
            k.sample(f(p(logits), (long) rows[i] * n), n, c.temperature(), c.topK(), c.topP(), c.minP(),
                    slot + SLOT_SEED, slot + SLOT_COUNTER, slot + SLOT_CHOSEN, slot + SLOT_LOGPROB, s);
        }
        end(tm);
        check("cudaMemcpyAsync D2H", cudart.cudaMemcpyAsync(new DevicePointer(h), new DevicePointer(rowSlots), bytes,
                cudart.cudaMemcpyDeviceToHost, stream));
        sync();
        flushTimes();
        TokenChoice.Choice[] out = new TokenChoice.Choice[count];
        for (int i = 0; i < count; i++) {
            out[i] = new TokenChoice.Choice(seg.get(ValueLayout.JAVA_INT, (long) i * SLOT_BYTES + SLOT_CHOSEN),
                    seg.get(ValueLayout.JAVA_FLOAT, (long) i * SLOT_BYTES + SLOT_LOGPROB));
        }
        return out;
    }

    private long rowSlots, rowSlotBytes;

    @Override
    public synchronized KVCache allocateKV(int layers, int capacity, int kvDim) {
        enterEager();
        long bytes = 2L * layers * capacity * kvDim * Float.BYTES;
        long free = CudaRuntime.memInfo()[0];
        if (bytes > free) {
            throw new IllegalStateException(String.format(Locale.ROOT,
                    "a KV cache of %d positions needs %d bytes (%.2f GiB) on %s but %d bytes (%.2f GiB) are free; use a smaller context",
                    capacity, bytes, bytes / 1073741824.0, name(), free, free / 1073741824.0));
        }
        return new CudaKV(layers, capacity, kvDim);
    }

    /** Closes this backend and every lane made from it, and frees all their device memory. */
    @Override
    public void close() {
        if (laneIndex != 0) {
            closeStream(); // a lane alone: its stream state; the memory pool is the backend's to free
            return;
        }
        List<CudaBackend> all;
        synchronized (lanes) {
            all = new ArrayList<>(lanes);
            lanes.clear();
        }
        for (CudaBackend lane : all) lane.closeStream();
        synchronized (this) {
            if (closed) return;
            closeStream();
            synchronized (allocations) {
                for (long a : allocations) cudart.cudaFree(new DevicePointer(a));
                allocations.clear();
            }
        }
    }

    /** Waits for this stream's work, then releases what belongs to it alone. */
    private synchronized void closeStream() {
        if (closed) return;
        CudaRuntime.use(ordinal);
        step = null;
        cudart.cudaStreamSynchronize(stream);
        if (timer != null) timer.close();
        for (CUgraphExec_st e : graphCache.values()) cudart.cudaGraphExecDestroy(e);
        graphCache.clear();
        if (laneIndex != 0) {
            for (long ptr : new long[] {tile, act16, tokens, dStep, rowSlots}) if (ptr != 0) free(ptr);
            for (long ptr : ropeFreqs.values()) free(ptr);
        }
        if (pinned != 0) cudart.cudaFreeHost(new DevicePointer(pinned));
        pinned = 0;
        cublas.cublasDestroy_v2(blas);
        cudart.cudaStreamDestroy(stream);
        one.close();
        zero.close();
        closed = true;
    }
}
