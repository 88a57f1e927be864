package dev.gearbox.server;

import dev.gearbox.generate.StopMatcher;
import dev.gearbox.generate.Utf8Stream;
import dev.gearbox.ladder.Hop;
import dev.gearbox.ladder.Ladder;
import dev.gearbox.ladder.LadderEngine;
import dev.gearbox.ladder.LadderResponse;
import dev.gearbox.ladder.Tier;
import dev.gearbox.model.Sequence;
import dev.gearbox.router.Decision;
import dev.gearbox.sample.Sampler;
import dev.gearbox.tokenizer.Tokenizer;

import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Runs completions on the ladder one sequence per request: a bounded queue in front of a worker
 * pool (one worker per stream the ladder gives its tiers), each tier limited to its
 * {@code max_sequences} at a time. Generates token by token so the server can stream and cancel.
 * A routed request's tier answers alone (no escalation); the ensemble answers in one piece.
 */
public final class DirectEngine implements CompletionEngine {
    private final Ladder ladder;
    private final LadderEngine engine;
    private final ThreadPoolExecutor pool;
    private final Semaphore[] slots;
    private final AtomicInteger waiting = new AtomicInteger();
    private final AtomicLong positionsInUse = new AtomicLong();
    private final long positionsAllowed;

    public DirectEngine(Ladder ladder, LadderEngine engine, int queueCapacity) {
        if (queueCapacity < 1) throw new IllegalArgumentException("queue capacity must be at least 1, got " + queueCapacity);
        this.ladder = ladder;
        this.engine = engine;
        int workers = 0;
        long allowed = 0;
        slots = new Semaphore[ladder.tiers().size()];
        for (Tier t : ladder.tiers()) {
            workers += t.config().streams();
            slots[t.index()] = new Semaphore(t.config().maxSequences(), true);
            allowed += (long) t.config().maxSequences() * t.context();
        }
        positionsAllowed = allowed;
        AtomicInteger n = new AtomicInteger();
        pool = new ThreadPoolExecutor(workers, workers, 30, TimeUnit.SECONDS, new ArrayBlockingQueue<>(queueCapacity),
                r -> Thread.ofPlatform().daemon().name("gearbox-worker-" + n.incrementAndGet()).unstarted(r));
    }

    @Override
    public List<String> tierNames() { return ladder.tierNames(); }

    @Override
    public int queueDepth() { return waiting.get(); }

    @Override
    public double kvCacheUsage() { return positionsAllowed == 0 ? 0 : (double) positionsInUse.get() / positionsAllowed; }

    @Override
    public Ticket submit(CompletionJob job, CompletionListener listener) {
        Tier forced = null;
        if (!job.auto()) {
            if (!ladder.tierNames().contains(job.model())) throw ApiError.unknownModel(job.model());
            forced = ladder.tier(job.model());
        }
        // The prompt must fit the tier that answers; for routed requests, the largest (routing may go up).
        Tier fit = forced != null ? forced : ladder.largest();
        int promptTokens = fit.model().tokenizer().encode(job.prompt(), true, false).length;
        if (promptTokens >= fit.context()) {
            throw ApiError.tooLong("The prompt is " + promptTokens + " tokens; tier '" + fit.name() + "' has a context of "
                    + fit.context() + " tokens and the answer needs room too");
        }
        AtomicBoolean cancelled = new AtomicBoolean();
        Tier chosen = forced;
        waiting.incrementAndGet();
        try {
            pool.execute(() -> {
                waiting.decrementAndGet();
                if (cancelled.get()) return;
                try {
                    run(job, chosen, listener, cancelled);
                } catch (Throwable t) {
                    listener.failed(t);
                }
            });
        } catch (RejectedExecutionException e) {
            waiting.decrementAndGet();
            if (pool.isShutdown()) throw ApiError.unavailable("the server is shutting down");
            throw ApiError.queueFull(1);
        }
        return () -> cancelled.set(true);
    }

    private void run(CompletionJob job, Tier forced, CompletionListener listener, AtomicBoolean cancelled) throws InterruptedException {
        Decision decision = forced != null ? Decision.forced(ladder.tierNames(), forced.name()) : engine.route(job.prompt());
        if (decision.ensemble()) {
            listener.routed(new Routing(Decision.ENSEMBLE, decision));
            var options = new LadderEngine.Options(job.sampling(), job.maxTokens(), false);
            LadderResponse r = engine.execute(job.prompt(), decision, options);
            StopMatcher stops = new StopMatcher(job.stop());
            String out = stops.add(r.text());
            if (!stops.stopped()) out += stops.finish();
            if (!out.isEmpty()) listener.text(out);
            int promptTokens = ladder.tier(ladder.ensemble().tiers().getFirst()).model().tokenizer().encode(job.prompt(), true, false).length;
            String finish = stops.stopped() || "eos".equals(r.hops().getLast().reason()) ? "stop" : "length";
            listener.done(new Outcome(finish, promptTokens, r.tokens().length, Decision.ENSEMBLE, decision, r.hops()));
            return;
        }
        Tier tier = ladder.tier(decision.tierIndex());
        listener.routed(new Routing(tier.name(), decision));
        Semaphore slot = slots[tier.index()];
        slot.acquire();
        try {
            generate(job, tier, decision, listener, cancelled);
        } finally {
            slot.release();
        }
    }

    private void generate(CompletionJob job, Tier tier, Decision decision, CompletionListener listener, AtomicBoolean cancelled) {
        long t0 = System.nanoTime();
        Tokenizer tok = tier.model().tokenizer();
        int[] prompt = tok.encode(job.prompt(), true, false);
        Sampler sampler = job.sampling() != null ? new Sampler(job.sampling()) : null;
        if (sampler != null) sampler.acceptAll(prompt);
        StopMatcher stops = new StopMatcher(job.stop());
        Utf8Stream utf8 = new Utf8Stream();
        Sequence seq = tier.acquire();
        long held = 0;
        int generated = 0;
        String finish;
        String reason;
        double flops = tier.flops(0, prompt.length);
        try {
            float[] logits = seq.forward(prompt);
            held = prompt.length;
            positionsInUse.addAndGet(held);
            while (true) {
                if (cancelled.get()) { finish = "cancelled"; reason = "cancelled"; break; }
                int token = sampler != null ? sampler.sample(logits).token() : Sampler.argmax(logits);
                if (tok.isEndOfGeneration(token)) { finish = "stop"; reason = "eos"; break; }
                generated++;
                if (sampler != null) sampler.accept(token);
                String piece = tok.isControl(token) ? "" : utf8.accept(tok.tokenBytes(token));
                String out = piece.isEmpty() ? "" : stops.add(piece);
                if (!out.isEmpty()) listener.text(out);
                if (stops.stopped()) { finish = "stop"; reason = "stop_string"; break; }
                if (generated >= job.maxTokens()) { finish = "length"; reason = "max_tokens"; break; }
                if (seq.position() >= seq.capacity()) { finish = "length"; reason = "context"; break; }
                int pos = seq.position();
                logits = seq.forward(new int[] {token});
                flops += tier.flops(pos, 1);
                held++;
                positionsInUse.incrementAndGet();
            }
        } finally {
            positionsInUse.addAndGet(-held);
            tier.release(seq);
        }
        if (finish.equals("cancelled")) return;
        if (!stops.stopped()) {
            String rest = utf8.flush();
            String out = (rest.isEmpty() ? "" : stops.add(rest));
            if (!stops.stopped()) out += stops.finish();
            if (!out.isEmpty()) listener.text(out);
        }
        Hop hop = new Hop(tier.name(), 0, generated, reason, flops, flops, System.nanoTime() - t0);
        listener.done(new Outcome(finish, prompt.length, generated, tier.name(), decision, List.of(hop)));
    }

    /** Stops taking work and waits for what is queued or running. */
    @Override
    public void close() {
        pool.shutdown();
        try {
            if (!pool.awaitTermination(60, TimeUnit.SECONDS)) pool.shutdownNow();
        } catch (InterruptedException e) {
            pool.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }
}
