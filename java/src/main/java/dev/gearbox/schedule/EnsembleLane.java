package dev.gearbox.schedule;

import dev.gearbox.profile.Profiler;
import dev.gearbox.profile.Span;
import dev.gearbox.ladder.LadderEngine;
import dev.gearbox.ladder.Tier;
import dev.gearbox.model.Sequence;
import dev.gearbox.router.Decision;
import dev.gearbox.tokenizer.Tokenizer;

import java.util.ArrayDeque;
import java.util.List;

/**
 * Runs ensemble requests: each one holds a slot and its KV cache in every member tier (reserved
 * together, under the scheduler's lock, so the member executors' accounting sees them) and decodes
 * its members side by side on this lane's thread, choosing each token from the weighted sum of the
 * members' log-probabilities ({@link LadderEngine#combineLogProbs}). Ensemble requests are not
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

    void submit(Job j) {
        Tokenizer tok = members[0].tier.model().tokenizer();
        int[] prompt = Job.promptFor(j.request, members[0].tier, null);
        Scheduler.checkPromptTokens(prompt, tok);
        j.sampler.acceptAll(prompt);
        j.promptTokensFinal = prompt.length;
        j.startHop(-1, prompt, false, false);
        j.kvBytes = 0;
        for (TierExecutor m : members) {
            Scheduler.checkFits(m, prompt.length);
            long need = m.bytesPerPosition * j.positionsNeeded(m.tier.context());
            if (need > m.kvBudget) {
                throw new CapacityException("the request needs " + need + " bytes of KV cache on ensemble member '" + m.name()
                        + "' but the tier's KV budget is " + m.kvBudget + " bytes; lower max_tokens or shorten the prompt");
            }
        }
        synchronized (scheduler.lock) {
            if (queue.size() >= scheduler.options().queueCapacity()) {
                throw new QueueFullException(Decision.ENSEMBLE, queue.size(), scheduler.retryAfter(members[members.length - 1]));
            }
            scheduler.countInFlightLocked();
            j.enqueuedNanos = System.nanoTime();
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
            for (Job d : dropped) scheduler.fail(d, d.cancelled);
            if (j == null) continue;
            if (j.cancelled != null) {
                scheduler.fail(j, j.cancelled);
                continue;
            }
            current = j;
            run(j);
            current = null;
        }
    }

    private void run(Job j) {
        long now = System.nanoTime();
        j.queueNanos += now - j.enqueuedNanos;
        if (Profiler.active()) Profiler.commit(Profiler.record("queue_wait", "queue", j.enqueuedNanos, now).tier(Decision.ENSEMBLE).request(j.id));
        j.hopStartNanos = System.nanoTime();
        Sequence[] seqs = new Sequence[members.length];
        Tokenizer tok = members[0].tier.model().tokenizer();
        Throwable error = null;
        try {
            float[][] logits = new float[members.length][];
            for (int i = 0; i < members.length; i++) {
                Tier t = members[i].tier;
                seqs[i] = t.model().newSequence(j.positionsNeeded(t.context()));
                Span span = Profiler.start("ensemble_prefill", "step").tier(t.name()).batch(1).tokens(j.prefix.length).request(j.id);
                try {
                    logits[i] = seqs[i].forward(j.prefix);
                } finally {
                    span.end();
                }
                j.hopFlops += t.flops(0, j.prefix.length);
                j.hopCost += t.cost(0, j.prefix.length);
            }
            int capacity = Integer.MAX_VALUE;
            for (Sequence s : seqs) capacity = Math.min(capacity, s.capacity());
            while (true) {
                if (j.stopReason() != null) break;
                if (j.maxTokens() == 0) {
                    j.finishReason = "length";
                    j.escalateReason = "max_tokens";
                    break;
                }
                j.seq = seqs[0];
                Job.Outcome o = j.onLogits(LadderEngine.combineLogProbs(logits, weights), tok, null, capacity);
                if (o != Job.Outcome.CONTINUE) break;
                int pos = seqs[0].position();
                for (int i = 0; i < members.length; i++) {
                    Span span = Profiler.start("ensemble_step", "step").tier(members[i].tier.name()).batch(1).tokens(1).request(j.id);
                    try {
                        logits[i] = seqs[i].forward(new int[] {j.pendingToken});
                    } finally {
                        span.end();
                    }
                    j.hopFlops += members[i].tier.flops(pos, 1);
                    j.hopCost += members[i].tier.cost(pos, 1);
                }
            }
        } catch (RuntimeException e) {
            error = e;
        } finally {
            j.seq = null;
            for (Sequence s : seqs) if (s != null) s.close();
            synchronized (scheduler.lock) {
                for (int i = 0; i < members.length; i++) members[i].release(reserved[i], System.nanoTime() - j.hopStartNanos);
                scheduler.lock.notifyAll();
            }
        }
        if (error != null) {
            scheduler.fail(j, error);
        } else if (j.cancelled != null) {
            scheduler.fail(j, j.cancelled);
        } else {
            j.endHop(Decision.ENSEMBLE, j.escalateReason);
            scheduler.complete(j, Decision.ENSEMBLE);
        }
    }
}
