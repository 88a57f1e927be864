package dev.gearbox.backend.cuda;

import dev.gearbox.backend.Backend;
import dev.gearbox.backend.KVCache;
import dev.gearbox.backend.Rope;
import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.gguf.TensorInfo;
import dev.gearbox.profile.Profiler;
import dev.gearbox.sample.TokenChoice;
import dev.gearbox.tensor.GGMLType;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.lang.ref.Cleaner;
import java.util.ArrayList;
import java.util.List;

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
    private final KernelTimer timer; // creates CUDA events only once the profiler times a kernel
    private boolean closed;

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
        if (base == null) CudaRuntime.checkOrdinal(ordinal);
        this.ordinal = ordinal;
        this.laneIndex = index;
        this.graphsOn = graphs;
        this.k = base == null ? NativeKernels.load() : base.k;
        this.lanes = base == null ? new ArrayList<>() : base.lanes;
        CudaRuntime.use(ordinal);
        this.device = base == null ? CudaDevice.of(k, ordinal) : base.device;
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
        this.timer = new KernelTimer(k, s, name() + " stream", device.peakBandwidth());
        this.rec = new StepRecorder(graphs, this::timing, this::launchStep, mem::free, this);
        this.graphs = new DecodeGraphs(mem, stream);
        this.sampling = new DeviceSampling(k, mem, this.graphs, rec, timer, s);
        if (base == null) NvtxRanges.install(k);
    }

    /**
     * See {@link Backend#lane}: the same weights and memory pool; its own stream, cuBLAS handle,
     * scratch, step scope and decode graphs, so the lanes of a tier run on the GPU concurrently.
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
        synchronized (this) {
            enter();
        }
        return rec.open(rows, Profiler.active());
    }

    /** StepRecorder's launcher, under the lock: a closed lane has nothing left to run a step on. */
    private void launchStep(DecodeStep st) {
        if (closed) return;
        CudaRuntime.use(ordinal);
        graphs.launch(st);
    }

    // ---- profiling: see KernelTimer ----

    /** The kernel timer while the profiler is on, else null. */
    private KernelTimer timing() {
        return Profiler.active() ? timer : null;
    }

    /** Every call starts here: a closed backend is an error, and the device becomes current for this thread. */
    private void enter() {
        if (closed) throw new IllegalStateException("the CUDA backend " + name() + " is closed");
        CudaRuntime.use(ordinal);
    }

    private static long p(Buffer b) { return ((CudaBuffer) b).ptr(); }
    private static CudaWeight w(Weight w) { return (CudaWeight) w; }
    private static long bits(float v) { return Float.floatToIntBits(v); }

    // ---- Backend ----

    @Override
    public synchronized Weight load(GGUFFile file, TensorInfo t) {
        enter();
        rec.flush();
        mem.checkFits(file, name() + " " + device.name());
        int cols = Math.toIntExact(t.dim(0));
        return new CudaWeight(t, mem.uploadTensor(file, t), Math.toIntExact(t.elementCount() / cols), cols);
    }

    /** Host F32 data as an F32 matrix on the device, uploaded once (the products read F32 weights as they read the model's). */
    @Override
    public synchronized Weight upload(String name, float[] rowMajor, int rows, int cols) {
        if (rows < 1 || cols < 1 || (long) rows * cols != rowMajor.length) {
            throw new IllegalArgumentException("weight '" + name + "': " + rowMajor.length + " values are not " + rows + " x " + cols);
        }
        enter();
        rec.flush();
        TensorInfo info = new TensorInfo(name, GGMLType.F32, new long[] {cols, rows}, 0);
        return new CudaWeight(info, mem.uploadFloats(rowMajor), rows, cols);
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
        long d = mem.zeroed(floats * Float.BYTES, "a buffer of " + floats + " floats");
        CudaBuffer b = new CudaBuffer(d, floats);
        CLEANER.register(b, () -> release(d));
        return b;
    }

    /** From the Cleaner's thread: frees one buffer unless close() already did. cudaFree waits for queued work. */
    private synchronized void release(long ptr) {
        if (closed || !mem.holds(ptr)) return;
        CudaRuntime.use(ordinal);
        rec.retire(ptr); // a recorded step may still name it
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
            tok = mem.uploadTokens(ids);
        }
        rec.launch("embed", 4L * n * t.cols() * 2, -1, dp -> k.embed(t.type(), t.ptr(), t.rows(), t.cols(), tok, n, o, s),
                1, t.type(), t.ptr(), t.rows(), t.cols(), tok, n, o);
    }

    @Override
    public synchronized void matmul(Weight weight, Buffer x, int n, Buffer out) {
        enter();
        CudaWeight m = w(weight);
        boolean matvec = n <= Products.MATVEC_MAX_ROWS;
        // the GEMM path allocates scratch and calls cuBLAS, neither of which a graph capture may hold
        if (rec.recording() && !matvec) throw new IllegalStateException("a single-token step scope got a product of " + n + " rows");
        long xp = p(x), yp = p(out);
        GGMLType type = m.info().type();
        rec.launch(matvec ? "matvec" : "matmul", m.info().byteSize() + 4L * n * (m.rows() + m.cols()), 2L * n * m.rows() * m.cols(),
                dp -> products.matmul(type, m.ptr(), m.rows(), m.cols(), xp, n, yp), 2, m.type(), m.ptr(), m.rows(), m.cols(), xp, n, yp);
    }

    /** {@link #matmul} with both pointers moved to {@code row0}: the same products, kernels and recorded op. */
    @Override
    public synchronized void matmulRows(Weight weight, Buffer x, int row0, int n, Buffer out) {
        enter();
        CudaWeight m = w(weight);
        boolean matvec = n <= Products.MATVEC_MAX_ROWS;
        if (rec.recording() && !matvec) throw new IllegalStateException("a single-token step scope got a product of " + n + " rows");
        long xp = CudaBuffer.at(x, (long) row0 * m.cols()), yp = CudaBuffer.at(out, (long) row0 * m.rows());
        GGMLType type = m.info().type();
        rec.launch(matvec ? "matvec" : "matmul", m.info().byteSize() + 4L * n * (m.rows() + m.cols()), 2L * n * m.rows() * m.cols(),
                dp -> products.matmul(type, m.ptr(), m.rows(), m.cols(), xp, n, yp), 2, m.type(), m.ptr(), m.rows(), m.cols(), xp, n, yp);
    }

    @Override
    public synchronized void addRows(Buffer x, Buffer y, int row0, int n, int dim) {
        enter();
        long off = (long) row0 * dim, count = (long) n * dim;
        long xp = CudaBuffer.at(x, off), yp = CudaBuffer.at(y, off);
        rec.launch("add", 12L * count, count, dp -> k.add(xp, yp, count, s), 9, xp, yp, count);
    }

    @Override
    public synchronized void addBias(Buffer x, Weight b, int n, int dim) {
        enter();
        long xp = p(x), bp = w(b).ptr();
        rec.launch("add_bias", 4L * (2L * n * dim + dim), (long) n * dim, dp -> k.addBias(xp, bp, n, dim, s), 3, xp, bp, n, dim);
    }

    @Override
    public synchronized void rmsNorm(Buffer in, Buffer out, Weight gain, int rows, int dim, float eps) {
        enter();
        long ip = p(in), op = p(out), gp = w(gain).ptr();
        rec.launch("rms_norm", 4L * (2L * rows * dim + dim), 4L * rows * dim, dp -> k.rmsNorm(ip, op, gp, rows, dim, eps, s),
                4, ip, op, gp, rows, dim, bits(eps));
    }

    @Override
    public synchronized void rope(Buffer x, int n, int heads, int headDim, int pos0, Rope rope) {
        enter();
        long xp = p(x), fp = mem.constant(rope.freqs()); // uploaded synchronously, so safe while a step is recorded
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
            ws = kv.workspace(wsBytes);
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
        long from = CudaBuffer.at(src, srcOff), to = CudaBuffer.at(dst, dstOff), bytes = count * Float.BYTES;
        rec.launch("copy", 8L * count, -1, dp -> CudaRuntime.check("cudaMemcpyAsync D2D",
                cudart.cudaMemcpyAsync(new DevicePointer(to), new DevicePointer(from), bytes, cudart.cudaMemcpyDeviceToDevice, stream)),
                11, from, to, count);
    }

    @Override
    public synchronized void copyKV(KVCache src, int srcPos, KVCache dst, int dstPos, int n) {
        enter();
        CudaKV a = (CudaKV) src, b = (CudaKV) dst;
        if (a.layers != b.layers || a.kvDim != b.kvDim) throw new IllegalArgumentException("KV caches of different shapes");
        if (srcPos < 0 || dstPos < 0 || n < 0 || srcPos + n > a.capacity || dstPos + n > b.capacity) {
            throw new IllegalArgumentException("KV copy of " + n + " positions from " + srcPos + " to " + dstPos + " is out of range");
        }
        long row = (long) a.kvDim * Float.BYTES, bytes = n * row;
        rec.flush();   // never part of a recorded decode step
        for (int l = 0; l < a.layers; l++) {
            for (long[] kv : new long[][] {{a.keys(l), b.keys(l)}, {a.values(l), b.values(l)}}) {
                CudaRuntime.check("cudaMemcpyAsync D2D (KV)", cudart.cudaMemcpyAsync(new DevicePointer(kv[1] + dstPos * row),
                        new DevicePointer(kv[0] + srcPos * row), bytes, cudart.cudaMemcpyDeviceToDevice, stream));
            }
        }
    }

    @Override
    public synchronized void read(Buffer b, long offset, float[] dst, int dstOff, int count) {
        enter();
        rec.flush(); // a recorded decode step runs (as a graph) before its result is read
        MemorySegment seg = mem.download(CudaBuffer.at(b, offset), (long) count * Float.BYTES); // also where earlier kernels' errors surface
        timer.flush(); // after a synchronisation: timed kernels become profiler spans
        MemorySegment.copy(seg, ValueLayout.JAVA_FLOAT, 0, dst, dstOff, count);
    }

    @Override
    public boolean choosesOnDevice() { return true; }

    /** Chooses on the device (see {@link DeviceSampling}); in a recorded step the choice joins its graph. */
    @Override
    public synchronized TokenChoice.Choice choose(Buffer logits, long offset, int n, TokenChoice c, int draw) {
        enter();
        return sampling.choose(CudaBuffer.at(logits, offset), n, c, draw);
    }

    @Override
    public synchronized TokenChoice.Choice[] chooseRows(Buffer logits, int n, int[] rows, TokenChoice[] choices, int[] draws) {
        enter();
        return sampling.chooseRows(p(logits), n, rows, choices, draws);
    }

    @Override
    public synchronized KVCache allocateKV(int layers, int capacity, int kvDim) {
        enter();
        rec.flush();
        DeviceMemory.checkCacheFits(capacity, 2L * layers * capacity * kvDim * Float.BYTES, name());
        return new CudaKV(this, ordinal, mem, rec, layers, capacity, kvDim);
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
        rec.drop(); // a step still recorded is dropped: nothing will read its result
        cudart.cudaStreamSynchronize(stream);
        timer.close();
        boolean lane = laneIndex != 0; // lane 0's memory goes with the pool right after
        graphs.close(lane);
        sampling.close(lane);
        products.close(lane);
        mem.closeLane(lane);
        cudart.cudaStreamDestroy(stream);
        closed = true;
    }
}
