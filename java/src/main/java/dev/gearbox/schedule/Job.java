package dev.gearbox.schedule;

import dev.gearbox.generate.Answer;
import dev.gearbox.generate.TokenLogprob;
import dev.gearbox.ladder.Tier;
import dev.gearbox.model.Adaptation;
import dev.gearbox.model.Sequence;
import dev.gearbox.router.Decision;
import dev.gearbox.sample.Sampler;
import dev.gearbox.sample.TokenChoice;
import dev.gearbox.template.ChatPrompt;
import dev.gearbox.template.ChatRenderer;
import dev.gearbox.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CompletableFuture;

/**
 * One request as it moves through the scheduler: its routing decision, its current hop (the
 * prompt on the current tier, how much of it is prefilled, the sequence it holds there, what the
 * hop has cost), the hops it has made, and its {@link Answer} (the shared decode policy). The job
 * owns all of that state; the routing stage, the scheduler, the tier lanes and the ensemble lane
 * change it only through these methods, one thread at a time (cancellation and the deadline are
 * the only things other threads touch).
 */
final class Job implements RequestHandle {
    final String id;
    final Request request;
    final long submitNanos;
    final CompletableFuture<Result> future = new CompletableFuture<>();
    private final Scheduler owner;
    private final Answer answer;

    private volatile Decision decision;     // null while waiting for the gatekeeper
    private long routeNanos;
    private volatile RequestCancelledException cancelled;
    private RuntimeException listenerFailure;

    // the current hop
    private int tierIndex;                  // -1 for the ensemble
    private int[] prefix;                   // prompt ids on the current tier, plus the answer kept from below
    private int prefilled;                  // how many prefix tokens the current sequence has consumed
    private Sequence seq;                   // held while running on a tier
    private long kvBytes;                   // KV bytes reserved for the current hop
    private long enqueuedNanos, queueNanos, hopStartNanos;
    private double hopFlops, hopCost;
    private int pendingToken = -1;          // last chosen token, to feed at the next step
    private int promptTokens;
    private int cachedTokens;               // prompt positions the current hop took from the tier's prefix cache
    private long firstTokenNanos = -1;
    private final List<Hop> hops = new ArrayList<>();
    private Sequence handoff;               // the gatekeeper's prefill of the prompt, for the first hop (see RoutingStage)
    private int[] rendered;                 // the chat's ids as the gatekeeper rendered them, with which renderer and tokenizer
    private ChatRenderer renderedBy;
    private String expert;                  // the current hop's SVF expert (task), null for the base weights
    private Adaptation adaptation;          // ... as built for the current tier's model
    private Tokenizer renderedFor;
    private float[] handoffLogits;          // its logits after the prompt: the first token is chosen from them

    Job(Scheduler owner, String id, Request request, long submitNanos) {
        this.owner = owner;
        this.id = id;
        this.request = request;
        this.submitNanos = submitNanos;
        this.answer = new Answer(request.sampling(), new Answer.Sink() {
            @Override public void onText(String piece) { deliver(() -> request.listener().onText(piece)); }
            @Override public void onToken(int token) {
                if (firstTokenNanos < 0) firstTokenNanos = System.nanoTime() - submitNanos;
                deliver(() -> request.listener().onToken(token));
            }
            @Override public void onLogprobs(List<TokenLogprob> tokens) { deliver(() -> request.listener().onLogprobs(tokens)); }
        }, request.topLogprobs(), request.grammar());
        future.whenComplete((r, e) -> {
            if (future.isCancelled() && cancelled == null) {
                cancelled = new RequestCancelledException(RequestCancelledException.Cause.CANCELLED, "request " + id + " was cancelled");
                owner.wake();
            }
        });
    }

    /** A listener that throws means its client went away: the request is cancelled, the exception goes no further. */
    private void deliver(Runnable call) {
        if (listenerFailure != null) return;
        try {
            call.run();
        } catch (RuntimeException e) {
            listenerFailure = e;
            cancelled = new RequestCancelledException(RequestCancelledException.Cause.LISTENER_FAILED,
                    "request " + id + ": the stream listener failed (" + e + ")");
        }
    }

    // ---- RequestHandle ----

    @Override public String id() { return id; }

    @Override public String tier() {
        Decision d = decision;
        return d == null ? null : d.choice();
    }

    @Override public CompletableFuture<Result> future() { return future; }

    @Override
    public void cancel() {
        cancel(RequestCancelledException.Cause.CANCELLED, "request " + id + " was cancelled");
    }

    void cancel(RequestCancelledException.Cause cause, String message) {
        if (cancelled == null && !future.isDone()) {
            cancelled = new RequestCancelledException(cause, message);
            owner.wake();
        }
    }

    /** The reason to drop this job now (cancel, deadline, a failed listener), or null. */
    RequestCancelledException stopReason() {
        if (cancelled != null) return cancelled;
        var d = request.deadline();
        if (d != null && System.currentTimeMillis() > d.toEpochMilli()) {
            cancelled = new RequestCancelledException(RequestCancelledException.Cause.DEADLINE, "request " + id + ": deadline " + d + " passed");
        }
        return cancelled;
    }

    RequestCancelledException cancelled() { return cancelled; }

    // ---- routing ----

    /** Records where the job goes and tells the listener, before it joins any tier's queue. */
    void routed(Decision d, long nanos) {
        this.decision = d;
        this.routeNanos = nanos;
        deliver(() -> request.listener().onRouted(d));
    }

    Decision decision() { return decision; }

    // ---- hops ----

    /** The prompt's ids on a tier: the given ids, or the text encoded by the tier's tokenizer. */
    int[] promptOn(Tier tier, Tokenizer from) {
        Tokenizer to = tier.model().tokenizer();
        if (request.chat() != null) {
            // The gatekeeper rendered this chat already: a tier with the same template and tokenizer reads those ids.
            if (rendered != null && renderedBy == tier.chatRenderer() && renderedFor == to) return rendered;
            return ChatPrompt.tokens(tier.chatRenderer(), to, request.chat());
        }
        if (request.promptTokens() != null) {
            if (from == null || dev.gearbox.tokenizer.Vocabularies.same(from, to)) return request.promptTokens();
            return to.encode(from.decode(request.promptTokens(), false), true, false);
        }
        return to.encode(request.prompt(), true, false);
    }

    /**
     * Starts a hop on tier {@code tier} (-1: the ensemble) of {@code prompt} ids; the answer so far is
     * kept (fed after the prompt) or restarted as {@code keep} says.
     */
    void startHop(int tier, Tokenizer tok, int[] prompt, Answer.Watch watch, boolean keepOnEscalate, boolean keep) {
        if (!keep) answer.restart();
        this.tierIndex = tier;
        this.promptTokens = prompt.length;
        this.prefix = keep && answer.count() > 0 ? concat(prompt, answer.tokens()) : prompt;
        this.prefilled = 0;
        this.cachedTokens = 0;
        this.hopFlops = 0;
        this.hopCost = 0;
        this.pendingToken = -1;
        this.hopStartNanos = System.nanoTime();
        answer.startHop(tok, prompt, watch, keepOnEscalate);
    }

    /** The current hop runs with {@code task}'s expert as {@code a} (both null: the base weights). */
    void expert(String task, Adaptation a) {
        this.expert = task;
        this.adaptation = a;
    }

    /** The current hop's expert task, or null. */
    String expert() { return expert; }

    /** The current hop's adaptation, which its new sequence runs with, or null. */
    Adaptation adaptation() { return adaptation; }

    /** Answer tokens kept so far (what a hop that keeps the answer appends to its prompt). */
    int answerTokens() { return answer.count(); }

    int tierIndex() { return tierIndex; }

    int[] prefix() { return prefix; }

    /** Positions the current hop may fill: the prefix plus the answer tokens left, at most the context. */
    int positionsNeeded(int context) {
        int max = request.sampling().maxTokens();
        long left = max < 0 ? Integer.MAX_VALUE : Math.max(0, (long) max - answer.count());
        return (int) Math.min(context, prefix.length + left);
    }

    void reserveKv(long bytes) { this.kvBytes = bytes; }

    long kvBytes() { return kvBytes; }

    void enqueued(long now) { this.enqueuedNanos = now; }

    long enqueuedNanos() { return enqueuedNanos; }

    /** The job got a slot: its wait ends and its hop's time starts. */
    void admitted(long now, Sequence seq) {
        this.queueNanos += now - enqueuedNanos;
        this.hopStartNanos = now;
        this.seq = seq;
    }

    Sequence sequence() { return seq; }

    long hopStartNanos() { return hopStartNanos; }

    /** The chat's prompt ids as {@code by} and {@code tok} made them (the gatekeeper's pass), for a tier that would make the same. */
    void rendered(int[] ids, ChatRenderer by, Tokenizer tok) {
        this.rendered = ids;
        this.renderedBy = by;
        this.renderedFor = tok;
    }

    /** Takes the gatekeeper's KV cache of the prompt, for the tier that runs the gatekeeper's model. */
    void handOff(Sequence s, float[] logits) {
        dropHandoff();
        this.handoff = s;
        this.handoffLogits = logits;
    }

    void dropHandoff() {
        if (handoff != null) {
            handoff.close();
            handoff = null;
        }
        handoffLogits = null;
    }

    /**
     * The handed-over sequence when it suits this hop ({@code capacity} positions or more, holding a
     * proper prefix of the prompt), with the prompt counted as prefilled that far; else null.
     */
    Sequence takeHandoff(int capacity) {
        Sequence s = handoff;
        handoff = null;
        if (s == null) return null;
        boolean whole = s.position() == prefix.length && handoffLogits != null;
        if (s.capacity() < capacity || !whole || answer.count() > 0) {
            s.close();
            handoffLogits = null;
            return null;
        }
        prefilled = s.position();
        return s;
    }

    /** The first {@code n} prefix positions came from the prefix cache: they count as prefilled, and as cached tokens. */
    void reusedPrefix(int n) {
        prefilled = n;
        cachedTokens = n;
    }

    /** The tokens the current sequence holds (or will), position by position: the prefix, then this hop's answer tokens. */
    int[] sequenceTokens() {
        int[] all = answer.tokens();
        return concat(prefix, Arrays.copyOfRange(all, all.length - answer.hopTokens(), all.length));
    }

    /** The logits a handed-over prefill left, once (the lane chooses the first token from them without a pass); else null. */
    float[] takeHandoffLogits() {
        float[] l = handoffLogits;
        handoffLogits = null;
        return l;
    }

    /** Gives back the hop's sequence (the caller frees the KV reservation). */
    void releaseSequence() {
        if (seq != null) {
            seq.close();
            seq = null;
        }
    }

    boolean prefilling() { return prefilled < prefix.length; }

    /** What to feed this step: the next prompt chunk of at most {@code chunk} tokens, or the last chosen token. */
    int[] nextFeed(int chunk) {
        if (prefilling()) {
            int n = Math.min(chunk, prefix.length - prefilled);
            return Arrays.copyOfRange(prefix, prefilled, prefilled + n);
        }
        return new int[] {pendingToken};
    }

    /**
     * After a step fed {@code n} tokens at positions [from, from + n) on {@code tier}: counts their
     * cost; true when the job now picks its next token (its prompt is all in).
     */
    boolean fed(Tier tier, int from, int n) {
        hopFlops += tier.flops(from, n) + (adaptation != null ? n * adaptation.extraFlopsPerToken() : 0);
        hopCost += tier.cost(from, n);
        if (prefilling()) prefilled += n;
        return !prefilling();
    }

    /** Counts FLOPs and cost the ensemble ran for this job (its members' passes). */
    void ran(double flops, double cost) {
        hopFlops += flops;
        hopCost += cost;
    }

    /** The choice a device may make for this job's next token, or null (host sampling, or no token to choose). */
    TokenChoice deviceChoice() { return answer.atLimit() ? null : answer.deviceChoice(); }

    int draws() { return answer.draws(); }

    /** True when the token limit leaves nothing to choose (max_tokens 0, or an exhausted budget). */
    boolean atLimit() { return answer.atLimit(); }

    Answer.Step choose(float[] logits, int capacity) {
        return accept(answer.choose(logits), capacity);
    }

    /** A token a device chose (the policy checks it is in the vocabulary). */
    Answer.Step chosen(TokenChoice.Choice c, int capacity) {
        return after(answer.accept(c, full(capacity)), c.token());
    }

    /** For the ensemble, which holds its members' sequences itself: chooses from combined scores. */
    Answer.Step chooseFrom(float[] scores, boolean contextFull) {
        return accept(answer.choose(scores), contextFull);
    }

    /** The token chosen last, which the next step feeds. */
    int lastToken() { return pendingToken; }

    private Answer.Step accept(Sampler.Choice c, int capacity) {
        return accept(c, full(capacity));
    }

    private Answer.Step accept(Sampler.Choice c, boolean contextFull) {
        return after(answer.accept(c, contextFull), c.token());
    }

    private boolean full(int capacity) {
        return seq != null && seq.position() >= capacity;
    }

    /** After the policy took {@code token}: it is fed next step, unless the listener failed (the client is gone). */
    private Answer.Step after(Answer.Step s, int token) {
        if (listenerFailure != null) return Answer.Step.DONE;
        pendingToken = token;
        return s;
    }

    /** Tokens chosen on the current hop. */
    int hopTokens() { return answer.hopTokens(); }

    String hopReason() { return answer.hopReason(); }

    boolean escalating() { return answer.escalateReason() != null && cancelled == null; }

    String escalateReason() { return answer.escalateReason(); }

    /** Ends the current hop on {@code tierName} and records it. */
    void endHop(String tierName) {
        hops.add(new Hop(tierName, answer.count() - answer.hopTokens(), answer.hopTokens(), answer.hopReason(), hopFlops, hopCost,
                System.nanoTime() - hopStartNanos));
    }

    /** Ends the text (held text released) and builds the result. */
    Result finish(String finalTier, long now) {
        answer.finish();
        return new Result(answer.text(), answer.tokens(), answer.logprobs(), new Usage(promptTokens, answer.count(), cachedTokens),
                answer.finishReason(), finalTier, decision, hops, new Timings(routeNanos, queueNanos, firstTokenNanos, now - submitNanos),
                answer.tokenLogprobs(), expert);
    }

    static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }
}
