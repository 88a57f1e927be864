package dev.gearbox.schedule;

import dev.gearbox.generate.Answer;
import dev.gearbox.ladder.Ladder;
import dev.gearbox.ladder.Tier;
import dev.gearbox.profile.Profiler;
import dev.gearbox.profile.Span;
import dev.gearbox.router.Decision;
import dev.gearbox.router.Router;
import dev.gearbox.tokenizer.Tokenizer;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Places requests on a ladder's tiers: routes them ({@code model: auto}) or takes the named tier,
 * queues them on the tier's {@link TierExecutor} (bounded; full = {@link QueueFullException}),
 * runs them with continuous batching, moves escalating requests up the ladder, and runs ensemble
 * requests holding a slot and KV cache in each member tier. See {@code docs/scheduler-api.md}.
 */
public final class Scheduler implements AutoCloseable {

    /**
     * @param queueCapacity  requests that may wait per tier (escalations moving up are never refused)
     * @param prefillChunk   most prompt tokens a newcomer feeds per step, so it does not stall the others
     * @param kvBudgetBytes  KV cache bytes per tier name; a tier not named gets max_sequences × context × bytes per position
     * @param drainTimeout   how long {@link #close()} lets requests in flight finish before cancelling them
     */
    public record Options(int queueCapacity, int prefillChunk, Map<String, Long> kvBudgetBytes, Duration drainTimeout, boolean prefixCaching) {
        public Options {
            if (queueCapacity < 1) throw new IllegalArgumentException("queue capacity must be at least 1, got " + queueCapacity);
            if (prefillChunk < 1) throw new IllegalArgumentException("prefill chunk must be at least 1 token, got " + prefillChunk);
            kvBudgetBytes = Map.copyOf(kvBudgetBytes);
            if (drainTimeout == null || drainTimeout.isNegative()) throw new IllegalArgumentException("drain timeout must be >= 0");
        }

        public Options(int queueCapacity, int prefillChunk, Map<String, Long> kvBudgetBytes, Duration drainTimeout) {
            this(queueCapacity, prefillChunk, kvBudgetBytes, drainTimeout, true);
        }

        public static Options defaults() {
            return new Options(256, 64, Map.of(), Duration.ofSeconds(30), true);
        }

        public Options withQueueCapacity(int n) { return new Options(n, prefillChunk, kvBudgetBytes, drainTimeout, prefixCaching); }
        public Options withPrefillChunk(int n) { return new Options(queueCapacity, n, kvBudgetBytes, drainTimeout, prefixCaching); }
        public Options withKvBudget(String tier, long bytes) {
            Map<String, Long> m = new HashMap<>(kvBudgetBytes);
            m.put(tier, bytes);
            return new Options(queueCapacity, prefillChunk, m, drainTimeout, prefixCaching);
        }
        public Options withDrainTimeout(Duration d) { return new Options(queueCapacity, prefillChunk, kvBudgetBytes, d, prefixCaching); }
        /** Prefix caching per tier (on by default, as in vLLM): prompts that start like earlier ones reuse their KV blocks. */
        public Options withPrefixCaching(boolean on) { return new Options(queueCapacity, prefillChunk, kvBudgetBytes, drainTimeout, on); }
    }

    /** A tier's load now: for metrics and tests. */
    public record TierStats(String tier, int queued, int running, int slots, long kvBytesUsed, long kvBytesBudget,
                            long bytesPerPosition, long completed, long generatedTokens, long steps, long sequenceSteps,
                            long prefixCacheBytes, long prefixLookups, long prefixHits, long prefixTokensReused) {}

    final Object lock = new Object();
    volatile boolean stopping;

    private final Ladder ladder;
    private final Router router;
    private final boolean ownsRouter;
    private final Options options;
    private final List<TierExecutor> executors = new ArrayList<>();
    private final EnsembleLane ensembleLane;
    private final RoutingStage routing;
    private final AtomicLong ids = new AtomicLong();
    private int inFlight;   // submitted and not yet completed, guarded by lock

    private Scheduler(Ladder ladder, Router router, boolean ownsRouter, Options options) {
        this.ladder = ladder;
        this.router = router;
        this.ownsRouter = ownsRouter;
        this.options = options;
        for (Tier t : ladder.tiers()) {
            Long b = options.kvBudgetBytes().get(t.name());
            executors.add(new TierExecutor(this, t, b != null ? b : -1));   // -1: max_sequences × context × bytes per position
        }
        for (String n : options.kvBudgetBytes().keySet()) ladder.tier(n);   // unknown names fail loudly
        ensembleLane = ladder.ensemble() != null ? new EnsembleLane(this) : null;
        routing = new RoutingStage(this);
    }

    /** A scheduler on the ladder with its own router (router.json, else the zero-shot rule) and default options. */
    public static Scheduler open(Ladder ladder) throws IOException {
        return open(ladder, Options.defaults());
    }

    public static Scheduler open(Ladder ladder, Options options) throws IOException {
        Router router = Router.forLadder(ladder);
        try {
            return start(new Scheduler(ladder, router, true, options));
        } catch (RuntimeException e) {
            router.close();
            throw e;
        }
    }

    /** With a router the caller made and closes. */
    public static Scheduler open(Ladder ladder, Router router, Options options) {
        return start(new Scheduler(ladder, router, false, options));
    }

    private static Scheduler start(Scheduler s) {
        for (TierExecutor e : s.executors) e.start();
        if (s.ensembleLane != null) s.ensembleLane.start();
        s.routing.warmUp();
        return s;
    }

    public Ladder ladder() { return ladder; }

    public Router router() { return router; }

    public Options options() { return options; }

    /** What a request's {@code model} may be: {@code auto}, each tier, and {@code ensemble} when the ladder enables it. */
    public List<String> models() {
        List<String> out = new ArrayList<>();
        out.add(Request.AUTO);
        out.addAll(ladder.tierNames());
        if (ladder.ensemble() != null) out.add(Decision.ENSEMBLE);
        // SGLang names a base model's adapter "base:adapter": a tier's expert is served as "tier:task"
        for (Tier t : ladder.tiers()) for (String task : t.experts().keySet()) out.add(t.name() + ":" + task);
        return out;
    }

    /**
     * Queues a request. An {@code auto} request waits for the gatekeeper on the routing stage (never
     * on the caller's thread) and then joins its tier's queue; a named tier's joins it at once.
     * Throws {@link QueueFullException} when the queue it would join is full, {@link CapacityException}
     * when a named tier can never fit it, {@link IllegalArgumentException} for an unknown model or a
     * bad prompt, and {@link IllegalStateException} once {@link #close()} has begun. For an
     * {@code auto} request, the same problems found after routing complete its future exceptionally.
     */
    public RequestHandle submit(Request r) {
        if (stopping) throw new IllegalStateException("the scheduler is shutting down and accepts no new requests");
        if (r.auto()) {
            Job j = new Job(this, "req-" + ids.incrementAndGet(), r, System.nanoTime());
            routing.submit(j);
            return j;
        }
        return submit(r, route(r));
    }

    /**
     * The routing decision for a request without queueing it, on the caller's thread: the
     * gatekeeper and router for {@code auto}, a forced decision for a tier name or {@code ensemble}.
     * Batch jobs route everything first, then {@link #submit(Request, Decision)}.
     */
    public Decision route(Request r) {
        if (r.auto()) {
            GatekeeperInput in = gatekeeperInput(r);
            Span span = Profiler.start("gatekeeper", "route");
            try {
                Decision d = router.route(in.text(), in.ids());
                span.detail(d.choice());
                return d;
            } finally {
                span.end();
            }
        }
        if (!models().contains(r.model())) {
            throw new IllegalArgumentException(unknownModel(r.model()));
        }
        int colon = r.model().indexOf(':');
        if (colon < 0) return Decision.forced(ladder.tierNames(), r.model());
        return Decision.forced(ladder.tierNames(), r.model().substring(0, colon)).withExpert(r.model().substring(colon + 1));
    }

    /** Why {@code model} is not served, naming what is (for {@code tier:task}, the tier's experts). */
    public String unknownModel(String model) {
        int colon = model.indexOf(':');
        if (colon >= 0 && ladder.tierNames().contains(model.substring(0, colon))) {
            Tier t = ladder.tier(model.substring(0, colon));
            return "unknown model '" + model + "': tier '" + t.name() + "' has no expert '" + model.substring(colon + 1) + "'"
                    + (t.experts().isEmpty() ? " (it has none)" : " (its experts: " + String.join(", ", t.experts().keySet()) + ")");
        }
        return "unknown model '" + model + "' (models: " + String.join(", ", models()) + ")";
    }

    /**
     * What the gatekeeper reads of a request: its text, and the token ids when they are the ones the
     * gatekeeper's tier would read (a chat rendered by the gatekeeper's template), else null (the
     * gatekeeper tokenizes the text itself).
     */
    record GatekeeperInput(String text, int[] ids) {}

    GatekeeperInput gatekeeperInput(Request r) {
        if (r.prompt() != null) return new GatekeeperInput(r.prompt(), null);
        if (r.promptTokens() != null) return new GatekeeperInput(ladder.tier(0).model().tokenizer().decode(r.promptTokens(), false), null);
        Router.Input in = router.input(r.chat());
        return new GatekeeperInput(in.text(), in.ids());
    }

    /** Queues a request on a decision made earlier by {@link #route}; escalation as {@link Request#escalates()} says. */
    public RequestHandle submit(Request r, Decision d) {
        if (stopping) throw new IllegalStateException("the scheduler is shutting down and accepts no new requests");
        Job j = new Job(this, "req-" + ids.incrementAndGet(), r, System.nanoTime());
        j.routed(d, d.nanos());
        place(j, d, false);
        return j;
    }

    /** {@link #submit(Request, Decision)}, waiting while the tier's queue is full instead of refusing (batch jobs, calibration). */
    public RequestHandle submitWaiting(Request r, Decision d) throws InterruptedException {
        while (true) {
            try {
                return submit(r, d);
            } catch (QueueFullException full) {
                // The caller waits for room rather than failing; the tier drains at its own pace.
                synchronized (lock) {
                    lock.wait(20);
                }
            }
        }
    }

    /** After the routing stage decided: places the job, or fails it with what placing threw. */
    void placeRouted(Job j, Decision d) {
        try {
            place(j, d, true);
        } catch (RuntimeException e) {
            fail(j, e);
        }
    }

    /** Puts a routed job on its tier's queue (or the ensemble's); {@code counted}: already in flight (from the routing stage). */
    private void place(Job j, Decision d, boolean counted) {
        if (d.ensemble()) {
            if (ensembleLane == null) throw new IllegalArgumentException("ladder " + ladder.path() + " has no enabled ensemble");
            ensembleLane.submit(j, counted);
            return;
        }
        int i = d.tierIndex();
        TierExecutor ex = executors.get(i);
        int[] prompt = j.promptOn(ex.tier, null);
        checkPromptTokens(prompt, ex.tier.model().tokenizer());
        prepareHop(j, i, prompt, false);
        synchronized (lock) {
            // Requests a free slot takes at the lane's next step are not waiting: only those beyond count against the queue.
            int waiting = ex.queue.size() - Math.max(0, ex.slots - ex.running);
            if (waiting >= options.queueCapacity()) {
                throw new QueueFullException(ex.name(), ex.queue.size(), retryAfter(ex));
            }
            if (!counted) inFlight++;
            j.enqueued(System.nanoTime());
            ex.queue.addLast(j);
            lock.notifyAll();
        }
    }

    static void checkPromptTokens(int[] prompt, Tokenizer tok) {
        for (int t : prompt) {
            if (t < 0 || t >= tok.vocabSize()) throw new IllegalArgumentException("prompt token id " + t + " is outside the vocabulary [0, " + tok.vocabSize() + ")");
        }
    }

    /** Sets up the job's next hop on tier i (keeping the answer so far or not) and checks it can ever fit there. */
    private void prepareHop(Job j, int i, int[] prompt, boolean keep) {
        TierExecutor ex = executors.get(i);
        Tier tier = ex.tier;
        checkFits(ex, prompt.length + (keep ? j.answerTokens() : 0));
        boolean top = i == executors.size() - 1;
        var esc = tier.escalate();
        Answer.Watch watch = j.request.escalates() && !top && esc != null ? new Answer.Watch(esc.window(), esc.minMeanLogprob()) : null;
        j.startHop(i, tier.model().tokenizer(), prompt, watch, ladder.keepsPartialAnswer(i), keep);
        // The decision's expert on every hop whose tier has that task's expert; a tier without one answers with its base weights.
        String task = j.decision().expert();
        j.expert(tier.hasExpert(task) ? task : null, tier.hasExpert(task) ? tier.adaptation(task).adaptation() : null);
        long kv = ex.bytesPerPosition * j.positionsNeeded(tier.context());
        if (kv > ex.kvBudget) {
            throw new CapacityException(String.format("the request needs %d bytes of KV cache on tier '%s' (%d positions × %d bytes) but the tier's "
                    + "KV budget is %d bytes; lower max_tokens or shorten the prompt", kv, ex.name(),
                    j.positionsNeeded(tier.context()), ex.bytesPerPosition, ex.kvBudget));
        }
        j.reserveKv(kv);
    }

    static void checkFits(TierExecutor ex, int promptTokens) {
        if (promptTokens >= ex.tier.context()) {
            throw new CapacityException("the prompt is " + promptTokens + " tokens, too long for tier '" + ex.name() + "' (context "
                    + ex.tier.context() + " tokens, and the answer needs room too)");
        }
    }

    int retryAfter(TierExecutor ex) {
        double perSlot = ex.avgServiceSeconds * Math.max(1, ex.queue.size()) / Math.max(1, ex.slots);
        return (int) Math.max(1, Math.min(60, Math.ceil(perSlot)));
    }

    /** Moves an escalating job to the next tier (never refused for a full queue: it already waited once). */
    void escalate(Job j, TierExecutor from) {
        int next = from.tier.index() + 1;
        TierExecutor ex = executors.get(next);
        long t0 = Profiler.active() ? System.nanoTime() : 0;
        try {
            int[] prompt = j.promptOn(ex.tier, from.tier.model().tokenizer());
            // The partial answer is kept where the vocabularies agree and it still fits beside the prompt.
            boolean keep = ladder.keepsPartialAnswer(from.tier.index()) && prompt.length + j.answerTokens() < ex.tier.context();
            prepareHop(j, next, prompt, keep);
        } catch (RuntimeException e) {
            fail(j, e);
            return;
        }
        if (t0 != 0 && Profiler.active()) {
            // Ends before the queue wait on the next tier starts, so the request's track nests cleanly.
            Profiler.commit(Profiler.record("escalate", "hop", t0, System.nanoTime()).tier(ex.name()).request(j.id)
                    .detail(from.name() + " -> " + ex.name() + ": " + j.escalateReason()));
        }
        synchronized (lock) {
            j.enqueued(System.nanoTime());
            ex.queue.addLast(j);
            lock.notifyAll();
        }
    }

    void complete(Job j, String tierName) {
        j.dropHandoff();
        Result r = j.finish(tierName, System.nanoTime());
        if (j.cancelled() != null) {
            fail(j, j.cancelled());
            return;
        }
        done();
        j.future.complete(r);
    }

    void fail(Job j, Throwable e) {
        j.dropHandoff();
        done();
        j.future.completeExceptionally(e);
    }

    private void done() {
        synchronized (lock) {
            inFlight--;
            lock.notifyAll();
        }
    }

    /** Counts a request accepted by a lane's queue (lock held). */
    void countInFlightLocked() {
        inFlight++;
    }

    /** Takes back {@link #countInFlightLocked} for a request that was refused after all (lock held). */
    void uncountInFlightLocked() {
        inFlight--;
        lock.notifyAll();
    }

    void wake() {
        synchronized (lock) {
            lock.notifyAll();
        }
    }

    TierExecutor executor(String name) { return executors.get(ladder.tier(name).index()); }

    int inFlightLocked() {
        return inFlight;
    }

    /** Requests submitted and not yet finished. */
    public int inFlight() {
        synchronized (lock) {
            return inFlight;
        }
    }

    public List<TierStats> stats() {
        synchronized (lock) {
            List<TierStats> out = new ArrayList<>();
            for (TierExecutor e : executors) {
                long[] pc = e.prefixCache != null ? e.prefixCache.counts() : new long[3];
                out.add(new TierStats(e.name(), e.queue.size(), e.running, e.slots, e.kvUsed, e.kvBudget, e.bytesPerPosition,
                        e.completed, e.generatedTokens, e.steps, e.sequenceSteps, e.prefixCache != null ? e.prefixCache.bytes() : 0,
                        pc[0], pc[1], pc[2]));
            }
            return out;
        }
    }

    public TierStats stats(String tier) {
        for (TierStats s : stats()) if (s.tier().equals(tier)) return s;
        throw new IllegalArgumentException("no tier named '" + tier + "'");
    }

    /** Stops accepting, lets requests in flight finish within the options' drain timeout, then cancels the rest. */
    @Override
    public void close() {
        close(options.drainTimeout());
    }

    public void close(Duration timeout) {
        stopping = true;
        wake();
        long deadline = System.nanoTime() + timeout.toNanos();
        try {
            synchronized (lock) {
                while (inFlight > 0) {
                    long left = deadline - System.nanoTime();
                    if (left <= 0) break;
                    lock.wait(Math.max(1, Math.min(50, left / 1_000_000)));
                }
            }
            if (inFlight() > 0) cancelAll();
            long grace = System.nanoTime() + Duration.ofSeconds(10).toNanos();
            for (TierExecutor e : executors) e.join(grace);
            if (ensembleLane != null) ensembleLane.join(grace);
            routing.close();
            for (TierExecutor e : executors) if (e.prefixCache != null) e.prefixCache.close();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            cancelAll();
        } finally {
            if (ownsRouter) router.close();
        }
    }

    private void cancelAll() {
        List<Job> all = new ArrayList<>();
        synchronized (lock) {
            for (TierExecutor e : executors) all.addAll(e.queue);
        }
        for (TierExecutor e : executors) e.cancelRunning();
        if (ensembleLane != null) ensembleLane.cancelAll();
        routing.cancelAll();
        for (Job j : all) j.cancel(RequestCancelledException.Cause.SHUTDOWN, "request " + j.id + ": the scheduler shut down before it finished");
    }
}
