package dev.gearbox.schedule;

import dev.gearbox.backend.Backend;
import dev.gearbox.generate.Answer;
import dev.gearbox.ladder.Tier;
import dev.gearbox.model.BatchStep;
import dev.gearbox.model.ModelConfig;
import dev.gearbox.model.Sequence;
import dev.gearbox.sample.TokenChoice;

import dev.gearbox.profile.Profiler;
import dev.gearbox.profile.Span;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * One tier's executor: its model, a bounded queue, the tier's slots ({@code max_sequences}) and KV
 * budget, and {@code streams} lanes (worker threads on the CPU). Each lane runs continuous
 * batching: every step it admits queued requests while a slot and their KV cache fit, drops
 * cancelled ones, and runs ONE batched forward pass ({@link BatchStep}) over all its sequences —
 * one token each for those decoding, a prompt chunk of at most {@code prefillChunk} tokens for
 * newcomers — so requests join and leave between steps and a long prompt never stalls the others.
 *
 * <p>All counters are guarded by the scheduler's lock.
 */
final class TierExecutor {
    final Scheduler scheduler;
    final Tier tier;
    final int slots;
    final int lanes;
    final int laneCapacity;
    final long kvBudget;
    final long bytesPerPosition;
    final ArrayDeque<Job> queue = new ArrayDeque<>();
    /** Computed prompt blocks kept for reuse, or null (prefix caching off, or lanes on separate CUDA streams). */
    final PrefixCache prefixCache;
    private final List<Thread> threads = new ArrayList<>();
    /** Jobs holding a slot in one of the lanes, for shutdown's cancellation. */
    final java.util.Set<Job> runningJobs = java.util.concurrent.ConcurrentHashMap.newKeySet();

    // guarded by scheduler.lock
    int running;
    long kvUsed;
    long completed;
    long generatedTokens;
    long steps;              // batched forward passes run
    long sequenceSteps;      // sequences in them, summed (sequenceSteps / steps = mean batch size)
    double avgServiceSeconds = 1.0;   // moving average of the time a request holds a slot

    TierExecutor(Scheduler scheduler, Tier tier, long kvBudget) {
        this.scheduler = scheduler;
        this.tier = tier;
        this.slots = tier.config().maxSequences();
        this.lanes = Math.max(1, Math.min(tier.config().streams(), slots));
        this.laneCapacity = (slots + lanes - 1) / lanes;
        // What the backend really allocates per position (a one-position cache, measured), so a
        // backend with another cache layout is accounted for correctly.
        try (Sequence probe = tier.model().newSequence(1)) {
            this.bytesPerPosition = probe.cacheBytes();
        }
        this.kvBudget = kvBudget >= 0 ? kvBudget : (long) slots * tier.context() * bytesPerPosition;
        // One cache for the tier's lanes where they share a backend (CPU lanes; one CUDA lane): a block
        // written on one CUDA stream must not be read on another before it is done.
        Backend be = tier.model().backend();
        boolean shared = lanes == 1 || be.lane(1) == be;
        this.prefixCache = scheduler.options().prefixCaching() && shared ? new PrefixCache(be, tier.model().config()) : null;
    }

    /** KV bytes one position costs from the shape: keys and values of every layer, F32 (what the CPU backend allocates). */
    static long bytesPerPosition(ModelConfig c) {
        return 2L * c.layers() * c.kvDim() * Float.BYTES;
    }

    String name() { return tier.name(); }

    void start() {
        for (int i = 0; i < lanes; i++) {
            int lane = i;
            Thread t = Thread.ofPlatform().daemon().name("gearbox-" + tier.name() + "-lane-" + i).unstarted(() -> laneLoop(lane));
            threads.add(t);
            t.start();
        }
    }

    void join(long deadlineNanos) throws InterruptedException {
        for (Thread t : threads) {
            long left = deadlineNanos - System.nanoTime();
            if (left > 0) t.join(Math.max(1, left / 1_000_000));
        }
    }

    /**
     * Whether a slot and {@code bytes} of KV cache are free now (lock held). The prefix cache lives in
     * the budget's unreserved room: its least recently used blocks are evicted for a request that needs it.
     */
    boolean canReserve(long bytes) {
        if (running >= slots) return false;
        if (prefixCache == null) return kvUsed + bytes <= kvBudget;
        long over = kvUsed + prefixCache.bytes() + bytes - kvBudget;
        if (over > 0) prefixCache.evict(over);
        return kvUsed + prefixCache.bytes() + bytes <= kvBudget;
    }

    /** Keeps the whole blocks of what {@code j}'s sequence holds in the prefix cache, within the KV budget's free room. */
    private void storePrefix(Job j) {
        if (prefixCache == null || j.sequence() == null) return;
        long room;
        synchronized (scheduler.lock) {
            room = kvBudget - kvUsed - prefixCache.bytes();
        }
        // The copy runs outside the scheduler's lock (a long prompt's blocks are many megabytes); the
        // cache takes only room no sequence had reserved, and gives back any a reservation took meanwhile.
        prefixCache.store(j.sequenceTokens(), j.sequence().position(), j.sequence(), room);
        synchronized (scheduler.lock) {
            long over = kvUsed + prefixCache.bytes() - kvBudget;
            if (over > 0) prefixCache.evict(over);
        }
    }

    void reserve(long bytes) {
        running++;
        kvUsed += bytes;
    }

    void release(long bytes, long heldNanos) {
        running--;
        kvUsed -= bytes;
        avgServiceSeconds = 0.8 * avgServiceSeconds + 0.2 * (heldNanos / 1e9);
    }

    private void laneLoop(int lane) {
        // Each lane has its own device queue (a CUDA stream on a GPU tier): lanes overlap there.
        Backend be = tier.model().backend().lane(lane);
        BatchStep step = tier.model().newBatchStep(be);
        List<Job> active = new ArrayList<>();
        List<Job> dropped = new ArrayList<>();
        List<Job> admitted = new ArrayList<>();
        int chunk = scheduler.options().prefillChunk();
        while (true) {
            synchronized (scheduler.lock) {
                // Cancelled or expired requests leave the queue at once, wherever they wait.
                queue.removeIf(j -> j.stopReason() != null && dropped.add(j));
                while (active.size() + admitted.size() < laneCapacity) {
                    Job j = queue.peekFirst();
                    if (j == null) break;
                    if (j.stopReason() != null) {
                        queue.pollFirst();
                        dropped.add(j);
                        continue;
                    }
                    if (!canReserve(j.kvBytes())) break;   // first come, first served: no overtaking a big request
                    queue.pollFirst();
                    reserve(j.kvBytes());
                    admitted.add(j);
                }
                if (active.isEmpty() && admitted.isEmpty() && dropped.isEmpty()) {
                    // Exit only when nothing is in flight anywhere: a lower tier may still escalate into this one.
                    if (scheduler.stopping && queue.isEmpty() && scheduler.inFlightLocked() == 0) return;
                    try {
                        scheduler.lock.wait(50);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        return;
                    }
                    continue;
                }
            }
            for (Job j : dropped) scheduler.fail(j, j.cancelled());
            dropped.clear();
            for (Job j : admitted) {
                long now = System.nanoTime();
                if (Profiler.active()) Profiler.commit(Profiler.record("queue_wait", "queue", j.enqueuedNanos(), now).tier(tier.name()).lane(lane).request(j.id));
                try {
                    int need = j.positionsNeeded(tier.context());
                    Sequence handed = j.takeHandoff(need);
                    Sequence seq = handed;
                    if (seq == null) {
                        seq = tier.model().newSequence(need, be);
                        seq.adapt(j.adaptation());
                    }
                    j.admitted(now, seq);
                    if (handed == null && prefixCache != null) {
                        // Leave one prompt token to feed: its logits choose the first answer token.
                        j.reusedPrefix(prefixCache.reuse(j.prefix(), j.prefix().length - 1, j.sequence()));
                    }
                    runningJobs.add(j);
                    float[] lg = handed != null ? j.takeHandoffLogits() : null;
                    // A prompt the gatekeeper already read on this model: its first token comes from that pass's logits.
                    Answer.Step first = lg == null ? Answer.Step.CONTINUE : j.atLimit() ? Answer.Step.DONE : j.choose(lg, j.sequence().capacity());
                    if (first == Answer.Step.CONTINUE) active.add(j);
                    else leave(j, lane);
                } catch (RuntimeException e) {
                    releaseSlot(j);
                    scheduler.fail(j, e);
                }
            }
            admitted.clear();
            for (int i = active.size() - 1; i >= 0; i--) {
                Job j = active.get(i);
                if (j.stopReason() != null) {
                    active.remove(i);
                    releaseSlot(j);
                    scheduler.fail(j, j.cancelled());
                }
            }
            if (active.isEmpty()) continue;
            try {
                runStep(step, active, chunk, lane);
            } catch (RuntimeException | Error e) {
                // A bug or an exhausted resource must not kill the lane and strand its requests.
                for (Job j : active) {
                    releaseSlot(j);
                    scheduler.fail(j, e);
                }
                active.clear();
            }
        }
    }

    private void runStep(BatchStep step, List<Job> active, int chunk, int lane) {
        int ns = active.size();
        List<Sequence> seqs = new ArrayList<>(ns);
        int[][] feed = new int[ns][];
        int rows = 0, prefilling = 0;
        for (int i = 0; i < ns; i++) {
            Job j = active.get(i);
            seqs.add(j.sequence());
            if (j.prefilling()) prefilling++;
            feed[i] = j.nextFeed(chunk);
            rows += feed[i].length;
        }
        synchronized (scheduler.lock) {
            steps++;
            sequenceSteps += ns;
        }
        // Where the tier's backend chooses on its device, rows that will pick a token this step (a
        // decode token, or the last prompt chunk) bring back only that token, never their logits.
        TokenChoice[] choices = null;
        int[] draws = null;
        if (step.backend().choosesOnDevice()) {
            choices = new TokenChoice[ns];
            draws = new int[ns];
            for (int i = 0; i < ns; i++) {
                Job j = active.get(i);
                boolean picks = !j.prefilling() || j.prefix().length - feed[i].length <= j.sequence().position();
                if (picks) {
                    choices[i] = j.deviceChoice();
                    draws[i] = j.draws();
                }
            }
        }
        Span span = Span.NOOP;
        if (Profiler.active()) {
            // prefill: every sequence brings a prompt chunk; decode: one token each; mixed: both in one batched step
            String name = prefilling == 0 ? "decode" : prefilling == ns ? "prefill" : "prefill+decode";
            span = Profiler.start(name, "step").tier(tier.name()).lane(lane).batch(ns).tokens(rows);
        }
        BatchStep.Rows out;
        try {
            out = step.step(seqs, feed, choices, draws);
        } finally {
            span.end();
        }
        List<Job> leaving = new ArrayList<>();
        for (int i = 0; i < ns; i++) {
            Job j = active.get(i);
            int from = j.sequence().position() - feed[i].length;
            boolean wasPrefilling = j.prefilling();
            if (!j.fed(tier, from, feed[i].length)) continue;   // more prompt chunks to go
            if (wasPrefilling) storePrefix(j);   // the whole prompt is in: later prompts that start alike reuse it
            Answer.Step o;
            if (j.atLimit()) o = Answer.Step.DONE;
            else if (out.chosen()[i] != null) o = j.chosen(out.chosen()[i], j.sequence().capacity());
            else o = j.choose(out.logits()[i], j.sequence().capacity());
            if (o != Answer.Step.CONTINUE) leaving.add(j);
        }
        for (Job j : leaving) {
            active.remove(j);
            leave(j, lane);
        }
    }

    /** A job's turn on this tier ended: record the hop, free its slot, then finish, fail or escalate it. */
    private void leave(Job j, int lane) {
        if (Profiler.active()) {
            Profiler.commit(Profiler.record("hop", "hop", j.hopStartNanos(), System.nanoTime()).tier(tier.name()).lane(lane).request(j.id)
                    .tokens(j.hopTokens()).detail(j.hopReason()));
        }
        j.endHop(tier.name());
        storePrefix(j);   // the prompt and the answer: the next turn of a chat starts with both
        releaseSlot(j);
        synchronized (scheduler.lock) {
            generatedTokens += j.hopTokens();
        }
        if (j.cancelled() != null) scheduler.fail(j, j.cancelled());
        else if (j.escalating()) scheduler.escalate(j, this);
        else scheduler.complete(j, tier.name());
    }

    void cancelRunning() {
        for (Job j : runningJobs) j.cancel(RequestCancelledException.Cause.SHUTDOWN, "request " + j.id + ": the scheduler shut down before it finished");
    }

    /** Frees the job's sequence and KV reservation now, before its future completes. */
    void releaseSlot(Job j) {
        runningJobs.remove(j);
        j.releaseSequence();
        synchronized (scheduler.lock) {
            release(j.kvBytes(), System.nanoTime() - j.hopStartNanos());
            if (j.tierIndex() >= 0) completed++;
            scheduler.lock.notifyAll();
        }
    }
}
