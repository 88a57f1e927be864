package dev.gearbox.backend.cuda;

import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.gguf.TensorInfo;
import dev.gearbox.tensor.Quantizer;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;
import org.bytedeco.javacpp.Pointer;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Device memory as one lane of a {@link CudaBackend} sees it: cudaMalloc/cudaFree over the set of
 * allocations that the backend and all its lanes share (one pool per device, freed whole on
 * close), this lane's pinned staging buffer for copies to and from the host, synchronous uploads
 * on this lane's stream (weights, constants, token ids), and the check that a model fits before
 * its first weight goes up.
 *
 * <p>Used under the lane's lock (every CudaBackend call holds it), which is also the monitor an
 * out-of-memory malloc waits on so that the Cleaner's thread can free unreachable buffers.
 */
final class DeviceMemory {
    /** Device memory kept free beyond the weights: activations, tiles, cuBLAS workspace, CUDA's own. */
    static final long WORKING_RESERVE = 768L << 20;

    private final Set<Long> allocations;            // shared by the backend and its lanes
    private final Map<GGUFFile, Boolean> checkedFiles; // ditto: a model is checked once, not per lane
    private final CUstream_st stream;
    private final Object lock;
    private final String lane;
    private final Map<float[], Long> constants = new IdentityHashMap<>(); // this lane's: see constant()
    private long pinned, pinnedBytes, tokens, tokenBytes;
    private boolean closed;

    /** The pool of a new backend, seen from lane 0 ({@code lock}: the lane's monitor). */
    DeviceMemory(CUstream_st stream, Object lock, String lane) {
        this(Collections.synchronizedSet(new LinkedHashSet<>()), Collections.synchronizedMap(new IdentityHashMap<>()), stream, lock, lane);
    }

    private DeviceMemory(Set<Long> allocations, Map<GGUFFile, Boolean> checkedFiles, CUstream_st stream, Object lock, String lane) {
        this.allocations = allocations;
        this.checkedFiles = checkedFiles;
        this.stream = stream;
        this.lock = lock;
        this.lane = lane;
    }

    /** The same pool seen from another lane: its own stream and staging. */
    DeviceMemory forLane(CUstream_st laneStream, Object laneLock, String laneName) {
        return new DeviceMemory(allocations, checkedFiles, laneStream, laneLock, laneName);
    }

    long malloc(long bytes, String what) {
        if (closed) throw new IllegalStateException("the CUDA backend " + lane + " is closed");
        Pointer p = new Pointer();
        int err = cudart.cudaMalloc(p, Math.max(bytes, 4));
        if (err == cudart.cudaErrorMemoryAllocation) {
            // Buffers of sequences nobody holds any more are freed by a Cleaner; give it a chance.
            System.gc();
            synchronized (lock) {
                try {
                    lock.wait(50); // lets the Cleaner's thread take the lane's lock and free them
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            err = cudart.cudaMalloc(p, Math.max(bytes, 4));
        }
        if (err != cudart.cudaSuccess) {
            long[] mem = CudaRuntime.memInfo();
            throw new CudaException("cudaMalloc of " + bytes + " bytes for " + what + " on " + lane + " (" + mem[0] + " bytes free)",
                    err, CudaRuntime.errorString(err));
        }
        allocations.add(p.address());
        return p.address();
    }

    /** A new allocation, zeroed on this lane's stream (asynchronously: work queued after it sees zeros). */
    long zeroed(long bytes, String what) {
        long d = malloc(bytes, what);
        CudaRuntime.check("cudaMemsetAsync", cudart.cudaMemsetAsync(new DevicePointer(d), 0, bytes, stream));
        return d;
    }

    /** Frees an allocation of the pool; one already freed (by close, or twice) is ignored. */
    void free(long ptr) {
        if (allocations.remove(ptr)) cudart.cudaFree(new DevicePointer(ptr));
    }

    boolean holds(long ptr) {
        return allocations.contains(ptr);
    }

    /** Host to device, synchronous (the source may be a mapped file or reused staging). */
    void upload(long dst, long hostAddress, long bytes) {
        CudaRuntime.check("cudaMemcpy H2D", cudart.cudaMemcpyAsync(new DevicePointer(dst), new DevicePointer(hostAddress), bytes,
                cudart.cudaMemcpyHostToDevice, stream));
        sync();
    }

    /** Device to host into the staging buffer, then waits: where errors of earlier kernels surface. */
    MemorySegment download(long src, long bytes) {
        long h = pinned(bytes);
        CudaRuntime.check("cudaMemcpyAsync D2H", cudart.cudaMemcpyAsync(new DevicePointer(h), new DevicePointer(src), bytes,
                cudart.cudaMemcpyDeviceToHost, stream));
        sync();
        return MemorySegment.ofAddress(h).reinterpret(bytes);
    }

    void sync() {
        CudaRuntime.check("cudaStreamSynchronize", cudart.cudaStreamSynchronize(stream));
    }

    /** This lane's pinned staging, at least {@code bytes} long (grown, never shrunk; reused by every copy). */
    long pinned(long bytes) {
        if (bytes > pinnedBytes) {
            if (pinned != 0) cudart.cudaFreeHost(new DevicePointer(pinned));
            Pointer p = new Pointer();
            CudaRuntime.check("cudaMallocHost", cudart.cudaMallocHost(p, bytes));
            pinned = p.address();
            pinnedBytes = bytes;
        }
        return pinned;
    }

    /** A new device copy of {@code v}. */
    long uploadFloats(float[] v) {
        long bytes = (long) v.length * Float.BYTES;
        long d = malloc(bytes, "a vector");
        long h = pinned(bytes);
        MemorySegment.copy(v, 0, MemorySegment.ofAddress(h).reinterpret(bytes), ValueLayout.JAVA_FLOAT, 0, v.length);
        upload(d, h, bytes);
        return d;
    }

    /**
     * A tensor of a mapped GGUF file placed on the device: a matrix exactly as stored, a vector
     * (gain, bias) dequantized to F32 once.
     */
    long uploadTensor(GGUFFile file, TensorInfo t) {
        if (t.shape().length == 1) {
            int n = Math.toIntExact(t.elementCount());
            float[] v = new float[n];
            Quantizer.dequantize(t.type(), file.data(t), v, 0, n);
            return uploadFloats(v);
        }
        MemorySegment data = file.data(t);
        long d = malloc(data.byteSize(), "tensor " + t.name());
        upload(d, data.address(), data.byteSize());
        return d;
    }

    /** The device copy of a host vector that lives as long as the model (rope frequencies), uploaded on first use. */
    long constant(float[] v) {
        Long d = constants.get(v);
        if (d == null) {
            d = uploadFloats(v);
            constants.put(v, d);
        }
        return d;
    }

    /** Token ids into this lane's id buffer (grown as needed, reused): its device address. */
    long uploadTokens(int[] ids) {
        long bytes = (long) ids.length * Integer.BYTES;
        if (bytes > tokenBytes) {
            if (tokens != 0) free(tokens);
            tokens = malloc(bytes, "token ids");
            tokenBytes = bytes;
        }
        long h = pinned(bytes);
        MemorySegment.copy(ids, 0, MemorySegment.ofAddress(h).reinterpret(bytes), ValueLayout.JAVA_INT, 0, ids.length);
        upload(tokens, h, bytes);
        return tokens;
    }

    /** Releases this lane's staging ({@code freeScratch}: and its device scratch, for a lane; the pool itself stays, see {@link #freeAll}). */
    void closeLane(boolean freeScratch) {
        if (freeScratch) {
            if (tokens != 0) free(tokens);
            for (long ptr : constants.values()) free(ptr);
        }
        tokens = tokenBytes = 0;
        constants.clear();
        if (pinned != 0) cudart.cudaFreeHost(new DevicePointer(pinned));
        pinned = 0;
        pinnedBytes = 0;
        closed = true;
    }

    /** Frees every allocation of the pool, whichever lane made it (the backend's close). */
    void freeAll() {
        synchronized (allocations) {
            for (long a : allocations) cudart.cudaFree(new DevicePointer(a));
            allocations.clear();
        }
    }

    // ---- fit check ----

    /** Device bytes a model's weights take here: matrices as stored, vectors as F32. */
    static long weightBytesOnDevice(GGUFFile file) {
        long total = 0;
        for (TensorInfo t : file.tensors().values()) total += t.shape().length == 1 ? t.elementCount() * Float.BYTES : t.byteSize();
        return total;
    }

    /** Refuses a model whose weights plus working memory exceed the device's free memory, naming both; once per file. */
    void checkFits(GGUFFile file, String device) {
        if (checkedFiles.put(file, Boolean.TRUE) != null) return;
        String refusal = fitRefusal(String.valueOf(file.path().getFileName()), device, weightBytesOnDevice(file), CudaRuntime.memInfo()[0]);
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

    /** Refuses a KV cache larger than the device's free memory. */
    static void checkCacheFits(int capacity, long bytes, String lane) {
        long free = CudaRuntime.memInfo()[0];
        if (bytes > free) {
            throw new IllegalStateException(String.format(Locale.ROOT,
                    "a KV cache of %d positions needs %d bytes (%.2f GiB) on %s but %d bytes (%.2f GiB) are free; use a smaller context",
                    capacity, bytes, bytes / 1073741824.0, lane, free, free / 1073741824.0));
        }
    }
}
