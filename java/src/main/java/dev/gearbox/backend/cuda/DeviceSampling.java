package dev.gearbox.backend.cuda;

import dev.gearbox.profile.Profiler;
import dev.gearbox.sample.TokenChoice;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

import static dev.gearbox.backend.cuda.DecodeGraphs.SLOT_BYTES;
import static dev.gearbox.backend.cuda.DecodeGraphs.SLOT_CHOSEN;
import static dev.gearbox.backend.cuda.DecodeGraphs.SLOT_COUNTER;
import static dev.gearbox.backend.cuda.DecodeGraphs.SLOT_LOGPROB;
import static dev.gearbox.backend.cuda.DecodeGraphs.SLOT_SEED;

/**
 * One lane's token choice on the device (gbx_sample): the logits stay where they are and 8 bytes a
 * row come back, the token and its log-probability. In a recorded decode step the choice joins the
 * step's graph, its seed and draw number travelling in the step slots with the token and position;
 * otherwise it runs at once. A batched step's rows get slots of their own, uploaded in one copy and
 * brought back in one. Used under the lane's lock; the caller turns timed kernels into spans.
 */
final class DeviceSampling {
    private final NativeKernels k;
    private final DeviceMemory mem;
    private final DecodeGraphs graphs;
    private final StepRecorder rec;
    private final KernelTimer timer;
    private final long s;
    private long rowSlots, rowSlotBytes;

    DeviceSampling(NativeKernels k, DeviceMemory mem, DecodeGraphs graphs, StepRecorder rec, KernelTimer timer, long stream) {
        this.k = k;
        this.mem = mem;
        this.graphs = graphs;
        this.rec = rec;
        this.timer = timer;
        this.s = stream;
    }

    /** Chooses from the {@code n} logits at device address {@code lp}; ends a recorded step with its graph. */
    TokenChoice.Choice choose(long lp, int n, TokenChoice c, int draw) {
        float t = c.temperature(), topP = c.topP(), minP = c.minP();
        int topK = c.topK();
        long slots = graphs.slots();
        if (rec.recording()) rec.step().draw(c.seed(), draw);
        else graphs.uploadSlots(0, 0, draw, c.seed());
        rec.launch("sample", 4L * n, -1,
                dp -> k.sample(lp, n, t, topK, topP, minP, slots + SLOT_SEED, slots + SLOT_COUNTER, slots + SLOT_CHOSEN, slots + SLOT_LOGPROB, s),
                10, lp, n, Float.floatToIntBits(t), topK, Float.floatToIntBits(topP), Float.floatToIntBits(minP));
        rec.flush(); // a recorded step runs now, its choice the last node of its graph
        MemorySegment seg = mem.download(slots + SLOT_CHOSEN, 8); // also where errors of the step's kernels surface
        timer.flush(); // after a synchronisation: timed kernels become profiler spans
        return new TokenChoice.Choice(seg.get(ValueLayout.JAVA_INT, 0), seg.get(ValueLayout.JAVA_FLOAT, 4));
    }

    /**
     * One round trip for a batched step's rows (row {@code rows[i]} of {@code n} logits from
     * {@code logits}): every row's seed and draw number go up in one copy, one gbx_sample per row
     * runs, and the rows' tokens and log-probabilities come back in one. A single-token step's
     * one row joins its graph through {@link #choose} instead.
     */
    TokenChoice.Choice[] chooseRows(long logits, int n, int[] rows, TokenChoice[] choices, int[] draws) {
        if (rec.recording() && rows.length == 1) {
            return new TokenChoice.Choice[] {choose(logits + (long) rows[0] * n * Float.BYTES, n, choices[0], draws[0])};
        }
        rec.flush();
        KernelTimer tm = Profiler.active() ? timer : null;
        int count = rows.length;
        if (count == 0) return new TokenChoice.Choice[0];
        long bytes = (long) count * SLOT_BYTES;
        if (bytes > rowSlotBytes) {
            if (rowSlots != 0) mem.free(rowSlots);
            rowSlots = mem.malloc(bytes, "token choice slots for " + count + " rows");
            rowSlotBytes = bytes;
        }
        long h = mem.pinned(bytes);
        MemorySegment seg = MemorySegment.ofAddress(h).reinterpret(bytes);
        seg.fill((byte) 0);
        for (int i = 0; i < count; i++) {
            seg.set(ValueLayout.JAVA_INT, (long) i * SLOT_BYTES + SLOT_COUNTER, draws[i]);
            seg.set(ValueLayout.JAVA_LONG, (long) i * SLOT_BYTES + SLOT_SEED, choices[i].seed());
        }
        mem.upload(rowSlots, h, bytes);
        if (tm != null) tm.begin("sample", 4L * n * count, -1);
        for (int i = 0; i < count; i++) {
            TokenChoice c = choices[i];
            long slot = rowSlots + (long) i * SLOT_BYTES;
            k.sample(logits + (long) rows[i] * n * Float.BYTES, n, c.temperature(), c.topK(), c.topP(), c.minP(),
                    slot + SLOT_SEED, slot + SLOT_COUNTER, slot + SLOT_CHOSEN, slot + SLOT_LOGPROB, s);
        }
        if (tm != null) tm.end();
        MemorySegment back = mem.download(rowSlots, bytes);
        timer.flush();
        TokenChoice.Choice[] out = new TokenChoice.Choice[count];
        for (int i = 0; i < count; i++) {
            out[i] = new TokenChoice.Choice(back.get(ValueLayout.JAVA_INT, (long) i * SLOT_BYTES + SLOT_CHOSEN),
                    back.get(ValueLayout.JAVA_FLOAT, (long) i * SLOT_BYTES + SLOT_LOGPROB));
        }
        return out;
    }

    /** A lane frees its row slots itself (the pool outlives it). */
    void close(boolean freeSlots) {
        if (freeSlots && rowSlots != 0) mem.free(rowSlots);
        rowSlots = rowSlotBytes = 0;
    }
}
