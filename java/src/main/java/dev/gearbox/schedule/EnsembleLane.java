package dev.gearbox.schedule;

import dev.gearbox.generate.Answer;
import dev.gearbox.ladder.Tier;
import dev.gearbox.model.Sequence;
import dev.gearbox.profile.Profiler;
import dev.gearbox.profile.Span;
import dev.gearbox.router.Decision;
import dev.gearbox.sample.LogitMath;

import java.util.ArrayDeque;
import java.util.List;

/**
 * Runs ensemble requests: each one holds a slot and its KV cache in every member tier (reserved
 * together, under the scheduler's lock, so the member executors' accounting sees them) and decodes
 * its members side by side on this lane's thread, choosing each token from the weighted sum of the
 * members' log-probabilities ({@link LogitMath#combineLogProbs}). Ensemble requests are not
 * batched with the tiers' other sequences: the simplest correct way to share the tiers' budgets.
 */
final class EnsembleLane {
    private final Scheduler scheduler;
    private final ArrayDeque<Job> queue = new ArrayDeque<>();
    private final TierExecutor[] members;
    private final double[] weights;
    private Thread thread;
    private volatile Job current;
    private long[] reserved;   // KV bytes the current job holds in each member (fixed at admission)

    EnsembleLane(Scheduler scheduler) {
        this.scheduler = scheduler;
        var ens = scheduler.ladder().ensemble();
        members = new TierExecutor[ens.tiers().size()];
        weights = new double[members.length];
        for (int i = 0; i < members.length; i++) {
            members[i] = scheduler.executor(ens.tiers().get(i));
            weights[i] = ens.weights().get(i);
        }
    }

    void start() {
        thread = Thread.ofPlatform().daemon().name("gearbox-ensemble").start(this::loop);
    }

    void join(long deadlineNanos) throws InterruptedException {
        long left = deadlineNanos - System.nanoTime();
        if (left > 0) thread.join(Math.max(1, left / 1_000_000));
    }

    /** Checks the job fits every member, then queues it (throws {@link QueueFullException} when the queue is full). */
    void submit(Job j, boolean counted) {
        Tier first = members[0].tier;
        int[] prompt = j.promptOn(first, null);
        Scheduler.checkPromptTokens(prompt, first.model().tokenizer());
        j.startHop(-1, first.model().tokenizer(), prompt, null, true, true);
        for (TierExecutor m : members) {
            Scheduler.checkFits(m, prompt.length);
            long need = need(j, m);
            if (need > m.kvBudget) {
                throw new CapacityException("the request needs " + need + " bytes of KV cache on ensemble member '" + m.name()
                        + "' but the tier's KV budget is " + m.kvBudget + " bytes; lower max_tokens or shorten the prompt");
            }
        }
        synchronized (scheduler.lock) {
            if (queue.size() >= scheduler.options().queueCapacity()) {
                throw new QueueFullException(Decision.ENSEMBLE, queue.size(), scheduler.retryAfter(members[members.length - 1]));
            }
            if (!counted) scheduler.countInFlightLocked();
            j.enqueued(System.nanoTime());
            queue.addLast(j);
            scheduler.lock.notifyAll();
        }
    }

    void cancelAll() {
        List<Job> all;
        synchronized (scheduler.lock) {
            all = List.copyOf(queue);
        }
        Job c = current;
        if (c != null) c.cancel(RequestCancelledException.Cause.SHUTDOWN, "request " + c.id + ": the scheduler shut down before it finished");
        for (Job j : all) j.cancel(RequestCancelledException.Cause.SHUTDOWN, "request " + j.id + ": the scheduler shut down before it finished");
    }

    private long need(Job j, TierExecutor m) {
        return m.bytesPerPosition * j.positionsNeeded(m.tier.context());
    }

    private void loop() {
        while (true) {
            Job j;
            List<Job> dropped = new java.util.ArrayList<>();
            synchronized (scheduler.lock) {
                queue.removeIf(q -> q.stopReason() != null && dropped.add(q));
                j = queue.peekFirst();
                boolean ready = j != null;
                if (j != null && j.stopReason() == null) {
                    for (TierExecutor m : members) ready &= m.canReserve(need(j, m));
                }
                if (j == null || !ready) {
                    if (j == null && scheduler.stopping && scheduler.inFlightLocked() == 0) return;
                    if (j != null && j.stopReason() != null) {
                        queue.pollFirst();
                    } else if (dropped.isEmpty()) {
                        try {
                            scheduler.lock.wait(50);
                        } catch (InterruptedException e) {
                            return;
                        }
                        continue;
                    } else {
                        j = null;   // fail the dropped ones first; the head waits for room
                    }
                } else {
                    queue.pollFirst();
                    for (TierExecutor m : members) m.reserve(need(j, m));
                    reserved = new long[members.length];
                    for (int i = 0; i < members.length; i++) reserved[i] = need(j, members[i]);
                }
            }
            for (Job d : dropped) scheduler.fail(d, d.cancelled());
            if (j == null) continue;
            if (j.cancelled() != null) {
                scheduler.fail(j, j.cancelled());
                continue;
            }
            current = j;
            run(j);
            current = null;
        }
    }

    private void run(Job j) {
        long now = System.nanoTime();
        if (Profiler.active()) Profiler.commit(Profiler.record("queue_wait", "queue", j.enqueuedNanos(), now).tier(Decision.ENSEMBLE).request(j.id));
        j.admitted(now, null);
        Sequence[] seqs = new Sequence[members.length];
        int[] prefix = j.prefix();
        Throwable error = null;
        try {
            float[][] logits = new float[members.length][];
            for (int i = 0; i < members.length; i++) {
                Tier t = members[i].tier;
                seqs[i] = t.model().newSequence(j.positionsNeeded(t.context()));
                Span span = Profiler.start("ensemble_prefill", "step").tier(t.name()).batch(1).tokens(prefix.length).request(j.id);
                try {
                    logits[i] = seqs[i].forward(prefix);
                } finally {
                    span.end();
                }
                j.ran(t.flops(0, prefix.length), t.cost(0, prefix.length));
            }
            int capacity = Integer.MAX_VALUE;
            for (Sequence s : seqs) capacity = Math.min(capacity, s.capacity());
            while (j.stopReason() == null && !j.atLimit()) {
                Answer.Step o = j.chooseFrom(LogitMath.combineLogProbs(logits, weights), seqs[0].position() >= capacity);
                if (o != Answer.Step.CONTINUE) break;
                int pos = seqs[0].position();
                int[] token = {j.lastToken()};
                for (int i = 0; i < members.length; i++) {
                    Tier t = members[i].tier;
                    Span span = Profiler.start("ensemble_step", "step").tier(t.name()).batch(1).tokens(1).request(j.id);
                    try {
                        logits[i] = seqs[i].forward(token);
                    } finally {
                        span.end();
                    }
                    j.ran(t.flops(pos, 1), t.cost(pos, 1));
                }
            }
        } catch (RuntimeException e) {
            error = e;
        } finally {
            for (Sequence s : seqs) if (s != null) s.close();
            synchronized (scheduler.lock) {
                for (int i = 0; i < members.length; i++) members[i].release(reserved[i], System.nanoTime() - j.hopStartNanos());
                scheduler.lock.notifyAll();
            }
        }
        if (error != null) {
            scheduler.fail(j, error);
        } else if (j.cancelled() != null) {
            scheduler.fail(j, j.cancelled());
        } else {
            j.endHop(Decision.ENSEMBLE);
            scheduler.complete(j, Decision.ENSEMBLE);
        }
    }
}
