package dev.gearbox.schedule;

import dev.gearbox.ladder.Tier;
import dev.gearbox.model.Sequence;
import dev.gearbox.router.Gatekeeper;
import dev.gearbox.router.RoutingBatcher;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where {@code auto} requests wait for the gatekeeper: they join a {@link RoutingBatcher}, whose
 * thread reads every prompt waiting in one batched gatekeeper pass; each routed request tells its
 * listener and joins its tier's queue. Submitting never runs the gatekeeper, so an HTTP thread is
 * never held by another request's routing.
 *
 * <p><b>KV handoff.</b> When the gatekeeper's model is a tier's own model (the default ladder's
 * gatekeeper is its smallest tier) and reads the whole prompt with every layer, its pass is that
 * tier's prefill: the gatekeeper keeps the prompt's KV cache, and a request routed to that tier
 * starts from it instead of reading its prompt again, so routing an easy prompt costs almost
 * nothing beyond the tier itself.
 */
final class RoutingStage {
    private final Scheduler scheduler;
    private final RoutingBatcher batcher;
    private final Tier handoffTier;                 // the tier running the gatekeeper's own model, or null
    private final Set<Job> waiting = ConcurrentHashMap.newKeySet();

    RoutingStage(Scheduler scheduler) {
        this.scheduler = scheduler;
        var ladder = scheduler.ladder();
        Tier same = null;
        for (Tier t : ladder.tiers()) if (t.model() == ladder.gatekeeperModel()) same = t;
        Gatekeeper gk = scheduler.router().gatekeeper();
        this.handoffTier = same != null && gk.readsLogits() ? same : null;
        this.batcher = new RoutingBatcher(scheduler.router(), scheduler.options().queueCapacity(),
                ladder.config().gatekeeper().batchTokens(), "gearbox-gatekeeper");
    }

    /**
     * Routes made-up prompts through the whole routing path (queue, batched read, head, decision) so
     * that the first request finds it compiled by the JIT: 3 rounds at least, then until 64 rounds or
     * about 1.5 s (a big gatekeeper gets fewer, slower rounds).
     */
    void warmUp() {
        scheduler.router().gatekeeper().warmUp();
        long until = System.nanoTime() + 1_500_000_000L;
        String text = "warm up the gatekeeper: 12+34= and some more words";
        for (int round = 0; round < 64 && (round < 3 || System.nanoTime() < until); round++) {
            java.util.concurrent.CompletableFuture<RoutingBatcher.Routed> f = new java.util.concurrent.CompletableFuture<>();
            if (!batcher.offer(text.substring(0, 10 + round % 40), null, 0, f::complete)) break;
            f.join();
        }
    }

    /** Queues a job for routing; throws {@link QueueFullException} when as many wait as the scheduler's queue capacity. */
    void submit(Job j) {
        Scheduler.GatekeeperInput in = scheduler.gatekeeperInput(j.request);
        if (in.ids() != null) j.rendered(in.ids(), scheduler.ladder().gatekeeperChat(), scheduler.ladder().gatekeeperModel().tokenizer());
        int keep = 0;
        Gatekeeper gk = scheduler.router().gatekeeper();
        // The gatekeeper's ids are the tier's own prompt for a plain prompt and for a chat it renders as the tier does.
        boolean same = j.request.prompt() != null || (j.request.chat() != null && in.ids() != null);
        if (handoffTier != null && same && gk.readsWhole(in.text(), in.ids())) {
            int prompt = gk.tokens(in.text(), in.ids()).length;
            int max = j.request.sampling().maxTokens();
            keep = (int) Math.min(handoffTier.context(), max < 0 ? handoffTier.context() : (long) prompt + max);
            if (keep <= prompt) keep = 0;   // no room to answer: the tier will refuse it anyway
        }
        synchronized (scheduler.lock) {
            scheduler.countInFlightLocked();
        }
        long t0 = System.nanoTime();
        waiting.add(j);
        if (!batcher.offer(in.text(), in.ids(), keep, r -> routed(j, r, t0))) {
            waiting.remove(j);
            synchronized (scheduler.lock) {
                scheduler.uncountInFlightLocked();
            }
            throw new QueueFullException("gatekeeper", batcher.waiting(), 1);
        }
    }

    private void routed(Job j, RoutingBatcher.Routed r, long t0) {
        waiting.remove(j);
        if (r.error() != null) {
            scheduler.fail(j, r.error());
            return;
        }
        // The time waiting for the gatekeeper counts as routing time, not as a tier's queue wait.
        j.routed(r.decision(), System.nanoTime() - t0);
        Sequence kept = r.kept();
        if (kept != null) {
            // The gatekeeper's pass ran the base weights: a prompt answered with an expert is prefilled again under it.
            if (r.decision().tierIndex() == handoffTier.index() && !handoffTier.hasExpert(r.decision().expert())) {
                j.handOff(kept, r.lastLogits());   // the prompt's KV and the logits its first token is chosen from
            } else {
                kept.close();
            }
        }
        if (j.stopReason() != null) {
            j.dropHandoff();
            scheduler.fail(j, j.cancelled());
        } else {
            scheduler.placeRouted(j, r.decision());
        }
    }

    void cancelAll() {
        for (Job j : waiting) j.cancel(RequestCancelledException.Cause.SHUTDOWN, "request " + j.id + ": the scheduler shut down before it finished");
    }

    void close() {
        batcher.close();
    }
}
