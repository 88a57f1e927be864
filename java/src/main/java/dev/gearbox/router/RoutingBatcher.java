package dev.gearbox.router;

import dev.gearbox.model.Sequence;
import dev.gearbox.profile.Profiler;
import dev.gearbox.profile.Span;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;

/**
 * Routes prompts as they arrive from many threads, never one lock per prompt: a bounded queue and
 * one routing thread that takes every prompt waiting (up to the gatekeeper's {@code batch_tokens})
 * and reads them in one batched gatekeeper pass, then decides each. Under load the batch grows, so
 * the matrices are read once for many prompts; alone, a prompt is read at once.
 */
public final class RoutingBatcher implements AutoCloseable {
    /** A routed prompt: the decision and the kept KV sequence (or null), or the error that stopped it. */
    public record Routed(Decision decision, Sequence kept, float[] lastLogits, RuntimeException error) {}

    private record Item(String prompt, int[] ids, int tokens, int keep, Consumer<Routed> done) {}

    private final Router router;
    private final int capacity, batchTokens;
    private final ArrayDeque<Item> queue = new ArrayDeque<>();
    private final Thread thread;
    private boolean closing;
    private final java.util.concurrent.atomic.AtomicLong batches = new java.util.concurrent.atomic.AtomicLong(), routed = new java.util.concurrent.atomic.AtomicLong();

    /** {@code capacity}: prompts that may wait; {@code batchTokens}: most gatekeeper tokens per batched pass. */
    public RoutingBatcher(Router router, int capacity, int batchTokens, String threadName) {
        this.router = router;
        this.capacity = capacity;
        this.batchTokens = Math.max(1, batchTokens);
        this.thread = Thread.ofPlatform().daemon().name(threadName).start(this::loop);
    }

    /**
     * Queues a prompt; {@code done} gets its decision on the routing thread. {@code keep}: the
     * capacity of a sequence to keep with the prompt's KV cache (0 = none; see
     * {@link Gatekeeper#read}). Returns false when the queue is full or closing.
     */
    public boolean offer(String prompt, int keep, Consumer<Routed> done) {
        return offer(prompt, null, keep, done);
    }

    /** {@link #offer(String, int, Consumer)} with the prompt's ids made by the caller (a rendered chat), or null. */
    public boolean offer(String prompt, int[] ids, int keep, Consumer<Routed> done) {
        int[] read = router.gatekeeper().tokens(prompt, ids);   // tokenized here, on the caller's thread, once
        synchronized (queue) {
            if (closing || queue.size() >= capacity) return false;
            queue.addLast(new Item(prompt, read, read.length, keep, done));
            queue.notifyAll();
            return true;
        }
    }

    /** Prompts routed per batched pass so far, on average (0 before the first). */
    public double meanBatch() {
        long b = batches.get();
        return b == 0 ? 0 : (double) routed.get() / b;
    }

    /** Prompts waiting now. */
    public int waiting() {
        synchronized (queue) {
            return queue.size();
        }
    }

    private void loop() {
        while (true) {
            List<Item> batch = new ArrayList<>();
            synchronized (queue) {
                while (queue.isEmpty()) {
                    if (closing) return;
                    try {
                        queue.wait(100);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
                int tokens = 0;
                while (!queue.isEmpty()) {
                    int n = queue.peekFirst().tokens();
                    if (!batch.isEmpty() && tokens + n > batchTokens) break;
                    tokens += n;
                    batch.add(queue.pollFirst());
                }
            }
            route(batch);
        }
    }

    private void route(List<Item> batch) {
        batches.incrementAndGet();
        routed.addAndGet(batch.size());
        List<String> prompts = new ArrayList<>(batch.size());
        List<int[]> ids = new ArrayList<>(batch.size());
        int[] keep = new int[batch.size()];
        for (int i = 0; i < batch.size(); i++) {
            prompts.add(batch.get(i).prompt());
            ids.add(batch.get(i).ids());
            keep[i] = batch.get(i).keep();
        }
        List<Gatekeeper.Reading> readings;
        Span span = Profiler.start("gatekeeper", "route").batch(batch.size());
        try {
            readings = router.gatekeeper().read(prompts, ids, keep);
        } catch (RuntimeException e) {
            for (Item it : batch) deliver(it, new Routed(null, null, null, e));
            return;
        } finally {
            span.end();
        }
        for (int i = 0; i < batch.size(); i++) {
            Gatekeeper.Reading r = readings.get(i);
            Routed out;
            try {
                out = new Routed(router.decide(r.features(), router.thresholds()), r.kept(), r.lastLogits(), null);
            } catch (RuntimeException e) {
                if (r.kept() != null) r.kept().close();
                out = new Routed(null, null, null, e);
            }
            deliver(batch.get(i), out);
        }
    }

    /** A callback that throws must not stop the routing thread for everyone else. */
    private static void deliver(Item it, Routed r) {
        try {
            it.done().accept(r);
        } catch (RuntimeException e) {
            System.err.println("gearbox: a routing callback failed: " + e);
        }
    }

    /** Routes what is queued, then stops the routing thread. */
    @Override
    public void close() {
        synchronized (queue) {
            closing = true;
            queue.notifyAll();
        }
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
