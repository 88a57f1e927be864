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
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The CUDA backend: every weight uploaded once (matrices exactly as stored in the GGUF file, 1-D
 * gains and biases dequantized to F32), activations and the KV cache in device memory, all work
 * of a lane enqueued on its stream; only a read or a token choice waits for the device. Its jobs
 * live beside it: {@link DeviceMemory} (the allocation pool, staging, the fit check),
 * {@link Products} (mat-vec and dequantize + cuBLAS), {@link StepRecorder} and {@link DecodeGraphs}
 * (the step scope, recorded decode steps, graph capture and replay), {@link DeviceSampling} (token
 * choice on the device). Memory, streams and cuBLAS go through JavaCPP (CUDA 13.0 functions only);
 * kernels go through {@link NativeKernels}; both see the same plain addresses.
 */
public final class CudaBackend implements Backend {
    private static final Cleaner CLEANER = Cleaner.create();

    private final int ordinal;
    private final int laneIndex;
    private final CudaDevice device;
    private final NativeKernels k;
    private final boolean graphsOn;
    private final List<CudaBackend> lanes;   // lanes 1..n, made on demand; the backend itself is lane 0
    private final CUstream_st stream = new CUstream_st();
    private final long s;                    // the stream as a plain address for the kernels
    private final DeviceMemory mem;
    private final Products products;
    private final StepRecorder rec;
    private final DecodeGraphs graphs;
    private final DeviceSampling sampling;
    private final Map<float[], Long> ropeFreqs = new IdentityHashMap<>();
    // Held from openStep to its close: a step scope has its lane to itself, so two threads
    // stepping sequences of the same lane take turns by step instead of mixing calls into one.
    private final ReentrantLock stepLock = new ReentrantLock();
    private final StepScope scope = this::closeStep; // one per lane: opening a step allocates nothing
    private KernelTimer timer;
    private long tokens, tokenCount;
    private boolean closed;

    record CudaBuffer(long ptr, long size) implements Buffer {}

    /** A weight on the device: a matrix as stored (rows x cols of its type) or an F32 vector. */
    record CudaWeight(TensorInfo info, long ptr, int rows, int cols) implements Weight {}

    /**
     * Opens device {@code ordinal}. Throws {@link NoCudaDeviceException} without a usable device and
     * {@link NativeLibraryMissingException} without the kernel library, before allocating anything.
     */
    public CudaBackend(int ordinal) {
        this(ordinal, !"false".equalsIgnoreCase(System.getProperty("gearbox.cuda.graphs", "true")));
    }

    /** {@code graphs}: capture single-token decode steps in CUDA graphs and replay them (the default). */
    public CudaBackend(int ordinal, boolean graphs) {
        this(ordinal, graphs, null, 0);
    }

    public CudaBackend() { this(0); }

    /** Lane {@code index} of {@code base} (null: a new backend): the same device, weights and pool; its own stream and state. */
    private CudaBackend(int ordinal, boolean graphs, CudaBackend base, int index) {
        if (base == null) {
            int count = CudaRuntime.deviceCount();
            if (ordinal < 0 || ordinal >= count) {
                throw new NoCudaDeviceException("device " + ordinal + " requested but " + count + " device" + (count == 1 ? " is" : "s are") + " present");
            }
        }
        this.ordinal = ordinal;
        this.laneIndex = index;
        this.graphsOn = graphs;
        this.k = base == null ? NativeKernels.load() : base.k;
        this.lanes = base == null ? new ArrayList<>() : base.lanes;
        CudaRuntime.use(ordinal);
        if (base == null) {
            // Facts from our own library (built against CUDA 13.0's headers), not JavaCPP's 13.1 struct layout.
            NativeKernels.DeviceInfo info = k.deviceInfo(ordinal);
            this.device = new CudaDevice(ordinal, info.name(), info.free(), info.total(), info.ccMajor(), info.ccMinor());
        } else {
            this.device = base.device;
        }
        // Non-blocking: nothing on the legacy default stream can join a graph capture by accident,
        // and lanes' streams do not wait for each other.
        CudaRuntime.check("cudaStreamCreateWithFlags", cudart.cudaStreamCreateWithFlags(stream, cudart.cudaStreamNonBlocking));
        this.s = stream.address();
        this.mem = base == null ? new DeviceMemory(stream, this, name()) : base.mem.forLane(stream, this, name());
        try {
            this.products = new Products(k, mem, stream);
        } catch (RuntimeException e) {
            cudart.cudaStreamDestroy(stream);
            throw e;
        }
        this.rec = new StepRecorder(graphs, this::timing);
        this.graphs = new DecodeGraphs(mem, stream);
        this.sampling = new DeviceSampling(k, mem, this.graphs, rec, s);
        if (base == null) NvtxRanges.install(k);
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
            while (lanes.size() < index) lanes.add(new CudaBackend(ordinal, graphsOn, this, lanes.size() + 1));
            return lanes.get(index - 1);
        }
    }

    /** The device this backend runs on, as it was when opened. */
    public CudaDevice device() { return device; }

    @Override
    public String name() { return laneIndex == 0 ? "cuda:" + ordinal : "cuda:" + ordinal + " lane " + laneIndex; }

    /** {captures, launches} of decode graphs so far (tests and bench notes). */
    public synchronized long[] graphCounts() { return graphs.counts(); }

    // ---- the step scope: see StepRecorder ----

    /**
     * Opens a step scope on this lane: a single-token step (one row) is recorded while graphs are
     * on and the profiler is off, and launched as a CUDA graph when its result is read or chosen,
     * or when the scope closes; any other step launches every call at once.
     */
    @Override
    public StepScope openStep(int rows) {
        stepLock.lock();
        try {
            synchronized (this) {
                enter();
                rec.open(rows, Profiler.active());
            }
        } catch (RuntimeException e) {
            stepLock.unlock();
            throw e;
        }
        return scope;
    }

    private void closeStep() {
        try {
            synchronized (this) {
                DecodeStep st = rec.close();
                if (st != null && !closed) {
                    CudaRuntime.use(ordinal);
                    graphs.launch(st);
                }
            }
        } finally {
            stepLock.unlock();
        }
    }

    /** Launches what the open scope recorded so far (a result is needed now); the rest of the scope launches at once. */
    private void launchRecorded() {
        DecodeStep st = rec.take();
        if (st != null) graphs.launch(st);
    }

    // ---- profiling: see KernelTimer ----

    /** The kernel timer while the profiler is on, else null. */
    private KernelTimer timing() {
        if (!Profiler.active()) return null;
        if (timer == null) timer = new KernelTimer(k, s, name() + " stream", device.peakBandwidth());
        return timer;
    }

    /** After a synchronisation: timed kernels become profiler spans. */
    private void flushTimes() {
        if (timer != null) timer.flush();
    }

    /** Every call starts here: a closed backend is an error, and the device becomes current for this thread. */
    private void enter() {
        if (closed) throw new IllegalStateException("the CUDA backend " + name() + " is closed");
        CudaRuntime.use(ordinal);
    }

    /** Frees now, or after the recorded step that may still name the memory has run. */
    private void freeWhenUnused(long ptr) {
        if (rec.recording()) graphs.freeAfterStep(ptr);
        else mem.free(ptr);
    }

    private static long p(Buffer b) { return ((CudaBuffer) b).ptr; }
    private static CudaWeight w(Weight w) { return (CudaWeight) w; }
    private static int type(CudaWeight w) { return w.info.type().id(); }
    private static long f(long ptr, long floats) { return ptr + floats * Float.BYTES; }
    private static long bits(float v) { return Float.floatToIntBits(v); }

    // ---- Backend ----

    @Override
    public synchronized Weight load(GGUFFile file, TensorInfo t) {
        enter();
        launchRecorded();
        mem.checkFits(file, name() + " " + device.name());
        if (t.shape().length == 1) {
            int n = Math.toIntExact(t.elementCount());
            float[] v = new float[n];
            Quantizer.dequantize(t.type(), file.data(t), v, 0, n);
            return new CudaWeight(t, mem.uploadFloats(v), 1, n);
        }
        int cols = Math.toIntExact(t.dim(0));
        int rows = Math.toIntExact(t.elementCount() / cols);
        MemorySegment data = file.data(t);
        long d = mem.malloc(data.byteSize(), "tensor " + t.name());
        mem.upload(d, data.address(), data.byteSize());
        return new CudaWeight(t, d, rows, cols);
    }

    /**
     * A zeroed device buffer. The Backend seam has no free for buffers (the CPU's are garbage
     * collected), so a Cleaner frees the device memory once the buffer is unreachable; close()
     * frees whatever is left. Allocating inside a recorded step needs no launch first: the new
     * memory's zeroing goes ahead of the recorded calls on the stream, and none of those names it.
     */
    @Override
    public synchronized Buffer allocate(long floats) {
        enter();
        long d = mem.malloc(floats * Float.BYTES, "a buffer of " + floats + " floats");
        CudaRuntime.check("cudaMemsetAsync", cudart.cudaMemsetAsync(new DevicePointer(d), 0, floats * Float.BYTES, stream));
        CudaBuffer b = new CudaBuffer(d, floats);
        CLEANER.register(b, () -> release(d));
        return b;
    }

    /** From the Cleaner's thread: frees one buffer unless close() already did. cudaFree waits for queued work. */
    private synchronized void release(long ptr) {
        if (closed || !mem.holds(ptr)) return;
        CudaRuntime.use(ordinal);
        freeWhenUnused(ptr); // a recorded step may still name it (it would launch later)
    }

    @Override
    public synchronized void embed(Weight table, int[] ids, Buffer out) {
        enter();
        CudaWeight t = w(table);
        int n = ids.length;
        long o = p(out), tok;
        if (rec.recording()) {
            if (n != 1) throw new IllegalStateException("a single-token step scope got an embedding of " + n + " tokens");
            rec.step().token(ids[0]); // goes to the device with the position when the step runs
            tok = graphs.slots() + DecodeGraphs.SLOT_TOKEN;
        } else {
            tok = uploadTokens(ids);
        }
        rec.launch("embed", 4L * n * t.cols * 2, -1, dp -> k.embed(type(t), t.ptr, t.rows, t.cols, tok, n, o, s),
                1, type(t), t.ptr, t.rows, t.cols, tok, n, o);
    }

    private long uploadTokens(int[] ids) {
        if (ids.length > tokenCount) {
            if (tokens != 0) mem.free(tokens);
            tokens = mem.malloc((long) ids.length * Integer.BYTES, "token ids");
            tokenCount = ids.length;
        }
        long bytes = (long) ids.length * Integer.BYTES;
        long h = mem.pinned(bytes);
        MemorySegment.copy(ids, 0, MemorySegment.ofAddress(h).reinterpret(bytes), ValueLayout.JAVA_INT, 0, ids.length);
        mem.upload(tokens, h, bytes);
        return tokens;
    }

    @Override
    public synchronized void matmul(Weight weight, Buffer x, int n, Buffer out) {
        enter();
        CudaWeight m = w(weight);
        boolean matvec = n <= Products.MATVEC_MAX_ROWS;
        // the GEMM path allocates scratch and calls cuBLAS, neither of which a graph capture may hold
        if (rec.recording() && !matvec) throw new IllegalStateException("a single-token step scope got a product of " + n + " rows");
        long xp = p(x), yp = p(out);
        GGMLType type = m.info.type();
        rec.launch(matvec ? "matvec" : "matmul", m.info.byteSize() + 4L * n * (m.rows + m.cols), 2L * n * m.rows * m.cols,
                dp -> products.matmul(type, m.ptr, m.rows, m.cols, xp, n, yp), 2, type(m), m.ptr, m.rows, m.cols, xp, n, yp);
    }

    @Override
    public synchronized void addBias(Buffer x, Weight b, int n, int dim) {
        enter();
        long xp = p(x), bp = w(b).ptr;
        rec.launch("add_bias", 4L * (2L * n * dim + dim), (long) n * dim, dp -> k.addBias(xp, bp, n, dim, s), 3, xp, bp, n, dim);
    }

    @Override
    public synchronized void rmsNorm(Buffer in, Buffer out, Weight gain, int rows, int dim, float eps) {
        enter();
        long ip = p(in), op = p(out), gp = w(gain).ptr;
        rec.launch("rms_norm", 4L * (2L * rows * dim + dim), 4L * rows * dim, dp -> k.rmsNorm(ip, op, gp, rows, dim, eps, s),
                4, ip, op, gp, rows, dim, bits(eps));
    }

    @Override
    public synchronized void rope(Buffer x, int n, int heads, int headDim, int pos0, Rope rope) {
        enter();
        Long freqs = ropeFreqs.get(rope.freqs());
        if (freqs == null) {
            freqs = mem.uploadFloats(rope.freqs()); // synchronous, so safe while a step is recorded
            ropeFreqs.put(rope.freqs(), freqs);
        }
        long xp = p(x), fp = freqs;
        boolean neox = rope.neox();
        int dims = rope.dims();
        rec.position(pos0);
        rec.launch("rope", 8L * n * heads * headDim, 3L * n * heads * headDim,
                dp -> k.rope(xp, n, heads, headDim, pos0, dp ? graphs.position() : 0, neox, dims, fp, s),
                5, xp, n, heads, headDim, neox ? 1 : 0, dims, fp);
    }

    @Override
    public synchronized void storeKV(KVCache cache, int layer, Buffer kb, Buffer vb, int n, int pos0) {
        enter();
        CudaKV kv = (CudaKV) cache;
        long kc = kv.keys(layer), vc = kv.values(layer), kp = p(kb), vp = p(vb);
        int cap = kv.capacity, kvDim = kv.kvDim;
        rec.position(pos0);
        rec.launch("store_kv", 16L * n * kvDim, -1, dp -> k.storeKv(kc, vc, cap, kvDim, kp, vp, n, pos0, dp ? graphs.position() : 0, s),
                6, kc, vc, cap, kvDim, kp, vp, n);
    }

    @Override
    public synchronized void attention(KVCache cache, int layer, Buffer q, int n, int pos0, int heads, int kvHeads, int headDim, float scale, Buffer out) {
        enter();
        CudaKV kv = (CudaKV) cache;
        long ws = 0, wsBytes = 0;
        int maxLen = 0;
        if (n == 1) {
            // flash-decoding over the whole capacity, so one graph serves every position
            maxLen = kv.capacity;
            wsBytes = k.attentionWorkspaceBytes(1, heads, headDim, maxLen);
            if (wsBytes > kv.workspaceBytes) {
                if (kv.workspace != 0) freeWhenUnused(kv.workspace);
                kv.workspace = mem.malloc(wsBytes, "attention workspace");
                kv.workspaceBytes = wsBytes;
            }
            ws = kv.workspace;
        }
        long kc = kv.keys(layer), vc = kv.values(layer), qp = p(q), op = p(out), wsp = ws, wsb = wsBytes;
        int ml = maxLen, cap = kv.capacity, kvDim = kv.kvDim;
        long ctx = pos0 + n; // keys and values read once per query block, q read and out written
        rec.position(pos0);
        rec.launch("attention", 8L * ctx * kvDim + 8L * n * heads * headDim, 4L * heads * headDim * n * ctx,
                dp -> k.attention(kc, vc, cap, kvDim, qp, n, pos0, dp ? graphs.position() : 0, heads, kvHeads, headDim, scale, wsp, wsb, ml, op, s),
                7, kc, vc, cap, kvDim, qp, n, heads, kvHeads, headDim, bits(scale), wsp, wsb, ml, op);
    }

    @Override
    public synchronized void swiglu(Buffer gate, Buffer up, long count) {
        enter();
        long gp = p(gate), upp = p(up);
        rec.launch("swiglu", 12L * count, 6L * count, dp -> k.swiglu(gp, upp, count, s), 8, gp, upp, count);
    }

    @Override
    public synchronized void add(Buffer x, Buffer y, long count) {
        enter();
        long xp = p(x), yp = p(y);
        rec.launch("add", 12L * count, count, dp -> k.add(xp, yp, count, s), 9, xp, yp, count);
    }

    @Override
    public synchronized void copy(Buffer src, long srcOff, Buffer dst, long dstOff, long count) {
        enter();
        long from = f(p(src), srcOff), to = f(p(dst), dstOff), bytes = count * Float.BYTES;
        rec.launch("copy", 8L * count, -1, dp -> CudaRuntime.check("cudaMemcpyAsync D2D",
                cudart.cudaMemcpyAsync(new DevicePointer(to), new DevicePointer(from), bytes, cudart.cudaMemcpyDeviceToDevice, stream)),
                11, from, to, count);
    }

    @Override
    public synchronized void read(Buffer b, long offset, float[] dst, int dstOff, int count) {
        enter();
        launchRecorded(); // a recorded decode step runs (as a graph) before its result is read
        MemorySegment seg = mem.download(f(p(b), offset), (long) count * Float.BYTES); // also where earlier kernels' errors surface
        flushTimes();
        MemorySegment.copy(seg, ValueLayout.JAVA_FLOAT, 0, dst, dstOff, count);
    }

    @Override
    public boolean choosesOnDevice() { return true; }

    /** Chooses on the device (see {@link DeviceSampling}); in a recorded step the choice joins its graph. */
    @Override
    public synchronized TokenChoice.Choice choose(Buffer logits, long offset, int n, TokenChoice c, int draw) {
        enter();
        TokenChoice.Choice got = sampling.choose(f(p(logits), offset), n, c, draw);
        flushTimes();
        return got;
    }

    /** One round trip for a batched step's rows; a single-token step's one row joins its graph as {@link #choose} does. */
    @Override
    public synchronized TokenChoice.Choice[] chooseRows(Buffer logits, int n, int[] rows, TokenChoice[] choices, int[] draws) {
        enter();
        if (rec.recording() && rows.length == 1) {
            return new TokenChoice.Choice[] {choose(logits, (long) rows[0] * n, n, choices[0], draws[0])};
        }
        launchRecorded();
        TokenChoice.Choice[] got = sampling.chooseRows(p(logits), n, rows, choices, draws, timing());
        flushTimes();
        return got;
    }

    @Override
    public synchronized KVCache allocateKV(int layers, int capacity, int kvDim) {
        enter();
        launchRecorded();
        DeviceMemory.checkCacheFits(capacity, 2L * layers * capacity * kvDim * Float.BYTES, name());
        return new CudaKV(this, mem, layers, capacity, kvDim);
    }

    /** {@link CudaKV#close}: a recorded step may write the cache, so it runs before the memory goes. */
    synchronized void closeCache(CudaKV kv) {
        if (kv.closed || closed) return;
        kv.closed = true;
        CudaRuntime.use(ordinal);
        launchRecorded();
        mem.free(kv.base);
        if (kv.workspace != 0) mem.free(kv.workspace);
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
            mem.freeAll();
        }
    }

    /** Waits for this stream's work, then releases what belongs to it alone. */
    private synchronized void closeStream() {
        if (closed) return;
        CudaRuntime.use(ordinal);
        rec.take(); // a step still recorded is dropped: nothing will read its result
        cudart.cudaStreamSynchronize(stream);
        if (timer != null) timer.close();
        boolean lane = laneIndex != 0; // lane 0's memory goes with the pool right after
        graphs.close(lane);
        sampling.close(lane);
        products.close(lane);
        if (lane) {
            if (tokens != 0) mem.free(tokens);
            for (long ptr : ropeFreqs.values()) mem.free(ptr);
        }
        mem.closeLane();
        cudart.cudaStreamDestroy(stream);
        closed = true;
    }
}
