package dev.gearbox.backend.cuda;

import org.bytedeco.cuda.cudart.CUgraphExec_st;
import org.bytedeco.cuda.cudart.CUgraph_st;
import org.bytedeco.cuda.cudart.CUstream_st;
import org.bytedeco.cuda.global.cudart;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One lane's decode graphs: the device slots a recorded {@link DecodeStep} reads and writes, the
 * cache of instantiated graphs by step signature (least recently used dropped), and launching a
 * step: a cached graph, a new capture, or, when the step cannot run from the slots, its recorded
 * launches one by one. Used under the lane's lock.
 */
final class DecodeGraphs {
    // Device slots of a step, so a captured graph replays with new values: int32 token, int32
    // position, int32 draw counter, int32 chosen token, float its logprob, pad, uint64 seed.
    static final int SLOT_TOKEN = 0, SLOT_POS = 4, SLOT_COUNTER = 8, SLOT_CHOSEN = 12, SLOT_LOGPROB = 16,
            SLOT_SEED = 24, SLOT_BYTES = 32;
    private static final int MAX_GRAPHS = 8;

    private final DeviceMemory mem;
    private final CUstream_st stream;
    private final Map<DecodeStep.Signature, CUgraphExec_st> cache = new LinkedHashMap<>(16, 0.75f, true);
    private long slots;
    private long captures, launches;

    DecodeGraphs(DeviceMemory mem, CUstream_st stream) {
        this.mem = mem;
        this.stream = stream;
    }

    /** The step slots' device address (allocated on first use, before any capture). */
    long slots() {
        if (slots == 0) slots = mem.malloc(SLOT_BYTES, "decode step slots");
        return slots;
    }

    /** Device address of the step's position (int32), for kernels run from a recorded step. */
    long position() { return slots + SLOT_POS; }

    /** Writes a step's inputs to the slots (synchronously: the pinned staging is reused). */
    void uploadSlots(int token, int pos, int counter, long seed) {
        long h = mem.pinned(SLOT_BYTES);
        MemorySegment seg = MemorySegment.ofAddress(h).reinterpret(SLOT_BYTES);
        seg.fill((byte) 0);
        seg.set(ValueLayout.JAVA_INT, SLOT_TOKEN, token);
        seg.set(ValueLayout.JAVA_INT, SLOT_POS, pos);
        seg.set(ValueLayout.JAVA_INT, SLOT_COUNTER, counter);
        seg.set(ValueLayout.JAVA_LONG, SLOT_SEED, seed);
        mem.upload(slots(), h, SLOT_BYTES);
    }

    /** Launches a recorded step (nothing for an empty one). */
    void launch(DecodeStep st) {
        if (st.ops().isEmpty()) return;
        uploadSlots(st.token(), st.position(), st.drawNumber(), st.seed());
        if (!st.graphable()) {
            for (DecodeStep.Op op : st.ops()) op.run(false);
            return;
        }
        DecodeStep.Signature sig = st.signature();
        CUgraphExec_st exec = cache.get(sig);
        if (exec == null) exec = capture(st, sig);
        CudaRuntime.check("cudaGraphLaunch", cudart.cudaGraphLaunch(exec, stream));
        launches++;
    }

    private CUgraphExec_st capture(DecodeStep st, DecodeStep.Signature sig) {
        CudaRuntime.check("cudaStreamBeginCapture", cudart.cudaStreamBeginCapture(stream, cudart.cudaStreamCaptureModeThreadLocal));
        CUgraph_st graph = new CUgraph_st();
        try {
            for (DecodeStep.Op op : st.ops()) op.run(true);
        } catch (RuntimeException e) {
            cudart.cudaStreamEndCapture(stream, graph);
            if (!graph.isNull()) cudart.cudaGraphDestroy(graph);
            throw e;
        }
        CudaRuntime.check("cudaStreamEndCapture", cudart.cudaStreamEndCapture(stream, graph));
        CUgraphExec_st exec = new CUgraphExec_st();
        int err = cudart.cudaGraphInstantiate(exec, graph, 0L);
        cudart.cudaGraphDestroy(graph);
        CudaRuntime.check("cudaGraphInstantiate", err);
        captures++;
        if (cache.size() >= MAX_GRAPHS) {
            var eldest = cache.entrySet().iterator().next();
            cudart.cudaGraphExecDestroy(eldest.getValue());
            cache.remove(eldest.getKey());
        }
        cache.put(sig, exec);
        return exec;
    }

    /** {captures, launches} of decode graphs so far. */
    long[] counts() { return new long[] {captures, launches}; }

    /** Destroys the instantiated graphs; {@code freeSlots} for a lane, whose slots the pool's close would not reach in time. */
    void close(boolean freeSlots) {
        for (CUgraphExec_st e : cache.values()) cudart.cudaGraphExecDestroy(e);
        cache.clear();
        if (freeSlots && slots != 0) mem.free(slots);
        slots = 0;
    }
}
