package dev.gearbox.schedule;

import dev.gearbox.generate.StopMatcher;
import dev.gearbox.generate.Utf8Stream;
import dev.gearbox.ladder.Hop;
import dev.gearbox.ladder.Ladder;
import dev.gearbox.ladder.Tier;
import dev.gearbox.model.Sequence;
import dev.gearbox.router.Decision;
import dev.gearbox.sample.Sampler;
import dev.gearbox.sample.TokenChoice;
import dev.gearbox.tokenizer.Tokenizer;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CompletableFuture;

/**
 * One request's state as it moves through the scheduler: its prompt on the current tier, the
 * answer so far, its sampler, stop strings and streaming state, and the hops it has made. Owned
 * by one executor lane at a time (cancellation and the deadline are the only fields other
 * threads touch).
 */
final class Job implements RequestHandle {
    enum Outcome { CONTINUE, DONE, ESCALATE }

    final String id;
    final Request request;
    final Decision decision;
    final long submitNanos;
    final long routeNanos;
    final CompletableFuture<Result> future = new CompletableFuture<>();
    private final Scheduler owner;

    volatile RequestCancelledException cancelled;

    // the current hop
    int tierIndex;              // -1 for the ensemble
    int[] prefix;               // prompt ids on the current tier, plus the answer kept from below
    int prefilled;              // how many prefix tokens the current sequence has consumed
    Sequence seq;               // held while running on a tier
    long kvBytes;               // KV bytes reserved for the current hop
    long enqueuedNanos;
    long queueNanos;
    long hopStartNanos;
    int hopStartTokens;
    double hopFlops, hopCost;
    boolean watch;              // escalation watch on the current tier
    boolean holdText;           // text is held back because an escalation would restart the answer
    int pendingToken = -1;      // last sampled token, to feed at the next step

    // the answer
    int[] tokens = new int[16];
    float[] logprobs = new float[16];
    int count;
    int generatedThisHop;
    double windowSum;
    Sampler sampler;
    Utf8Stream utf8 = new Utf8Stream();
    StopMatcher stops;
    final StringBuilder held = new StringBuilder();
    final List<Hop> hops = new ArrayList<>();
    String finishReason;
    long firstTokenNanos = -1;
    int promptTokensFinal;

    Job(Scheduler owner, String id, Request request, Decision decision, long submitNanos, long routeNanos) {
        this.owner = owner;
        this.id = id;
        this.request = request;
        this.decision = decision;
        this.submitNanos = submitNanos;
        this.routeNanos = routeNanos;
        this.stops = new StopMatcher(request.sampling().stop());
        this.sampler = new Sampler(request.sampling());
        future.whenComplete((r, e) -> {
            if (future.isCancelled() && cancelled == null) {
                cancelled = new RequestCancelledException(RequestCancelledException.Cause.CANCELLED, "request " + id + " was cancelled");
                owner.wake();
            }
        });
    }

    @Override public String id() { return id; }

    @Override public String tier() { return decision.choice(); }

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

    /** The reason to drop this job now (cancel, deadline), or null. */
    RequestCancelledException stopReason() {
        if (cancelled != null) return cancelled;
        var d = request.deadline();
        if (d != null && System.currentTimeMillis() > d.toEpochMilli()) {
            cancelled = new RequestCancelledException(RequestCancelledException.Cause.DEADLINE, "request " + id + ": deadline " + d + " passed");
        }
        return cancelled;
    }

    int maxTokens() {
        int m = request.sampling().maxTokens();
        return m < 0 ? Integer.MAX_VALUE : m;
    }

    /** Prompt ids for a tier: the given ids, or the text encoded by the tier's tokenizer. */
    static int[] promptFor(Request r, Tier tier, Tokenizer fromTok) {
        if (r.promptTokens() != null) {
            if (fromTok == null || Ladder.sameVocabulary(fromTok, tier.model().tokenizer())) return r.promptTokens();
            return tier.model().tokenizer().encode(fromTok.decode(r.promptTokens(), false), true, false);
        }
        return tier.model().tokenizer().encode(r.prompt(), true, false);
    }

    /** Positions the current hop may fill: the prefix plus the answer tokens left, at most the context. */
    int positionsNeeded(int context) {
        long need = (long) prefix.length + Math.max(0, (long) maxTokens() - count);
        return (int) Math.min(context, need);
    }

    /** Starts a hop on a tier (or the ensemble): resets per-hop counters. */
    void startHop(int tier, int[] prefix, boolean watch, boolean holdText) {
        this.tierIndex = tier;
        this.prefix = prefix;
        this.prefilled = 0;
        this.hopStartTokens = count;
        this.generatedThisHop = 0;
        this.windowSum = 0;
        this.hopFlops = 0;
        this.hopCost = 0;
        this.watch = watch;
        this.holdText = holdText;
        this.pendingToken = -1;
        this.hopStartNanos = System.nanoTime();
    }

    void endHop(String tierName, String reason) {
        hops.add(new Hop(tierName, hopStartTokens, generatedThisHop, reason, hopFlops, hopCost, System.nanoTime() - hopStartNanos));
    }

    /** Forgets the answer, for an escalation that restarts on a tier with another vocabulary. */
    void restartAnswer() {
        count = 0;
        utf8 = new Utf8Stream();
        stops = new StopMatcher(request.sampling().stop());
        held.setLength(0);
        sampler = new Sampler(request.sampling());
    }

    /**
     * Takes the logits after the last fed token: samples, streams, and says whether the request
     * goes on, is done ({@link #finishReason} set), or should escalate (watched tier below its
     * confidence floor; {@code escalateReason} set).
     */
    Outcome onLogits(float[] logits, Tokenizer tok, Tier watchedTier, int capacity) {
        return onChoice(sampler.sample(logits), tok, watchedTier, capacity);
    }

    /**
     * The one-step choice that lets a device choose this request's next token (see
     * {@link TokenChoice}), or null when its settings need the host's sampler (penalties).
     */
    TokenChoice deviceChoice() {
        if (deviceChoice == null && !deviceChoiceChecked) {
            deviceChoice = TokenChoice.of(request.sampling(), sampler.seed());
            deviceChoiceChecked = true;
        }
        return deviceChoice;
    }

    private TokenChoice deviceChoice;
    private boolean deviceChoiceChecked;
    /** Draws made for this request, over all hops: the device's noise never repeats within a request. */
    int draws;

    /** Like {@link #onLogits} for a token a device already chose (with its log-probability). */
    Outcome onChosen(TokenChoice.Choice chosen, Tokenizer tok, Tier watchedTier, int capacity) {
        int vocab = tok.vocabSize();
        if (chosen.token() < 0 || chosen.token() >= vocab) {
            throw new IllegalStateException("the device chose token " + chosen.token() + " but the vocabulary has " + vocab + " tokens");
        }
        return onChoice(new Sampler.Choice(chosen.token(), chosen.logprob()), tok, watchedTier, capacity);
    }

    private Outcome onChoice(Sampler.Choice c, Tokenizer tok, Tier watchedTier, int capacity) {
        draws++;
        int token = c.token();
        if (firstTokenNanos < 0) firstTokenNanos = System.nanoTime() - submitNanos;
        try {
            request.listener().onToken(token);
        } catch (RuntimeException e) {
            listenerFailed(e);
            return Outcome.DONE;
        }
        if (tok.isEndOfGeneration(token)) {
            finishReason = "stop";
            escalateReason = "eos";
            return Outcome.DONE;
        }
        if (count == tokens.length) {
            tokens = Arrays.copyOf(tokens, count * 2);
            logprobs = Arrays.copyOf(logprobs, count * 2);
        }
        tokens[count] = token;
        logprobs[count++] = c.logprob();
        generatedThisHop++;
        sampler.accept(token);
        pendingToken = token;
        if (!tok.isControl(token)) {
            String piece = stops.add(utf8.accept(tok.tokenBytes(token)));
            if (!emit(piece)) return Outcome.DONE;
            if (stops.stopped()) {
                finishReason = "stop";
                escalateReason = "stop";
                return Outcome.DONE;
            }
        }
        if (watch) {
            var esc = watchedTier.escalate();
            windowSum += c.logprob();
            if (generatedThisHop > esc.window()) windowSum -= logprobs[count - 1 - esc.window()];
            if (generatedThisHop >= esc.window() && count < maxTokens()) {
                double mean = windowSum / esc.window();
                if (mean < esc.minMeanLogprob()) {
                    escalateReason = String.format(Locale.ROOT, "escalate: mean logprob %.3f over the last %d tokens < %.3f",
                            mean, esc.window(), esc.minMeanLogprob());
                    return Outcome.ESCALATE;
                }
            }
        }
        if (count >= maxTokens()) {
            finishReason = "length";
            escalateReason = "max_tokens";
            return Outcome.DONE;
        }
        if (seq != null && seq.position() >= capacity) {
            finishReason = "length";
            escalateReason = "context";
            return Outcome.DONE;
        }
        return Outcome.CONTINUE;
    }

    /** The hop's end reason in {@link Hop}'s words (eos, max_tokens, context, stop, escalate: ...). */
    String escalateReason;

    /** Hands text to the listener, or holds it while an escalation could still restart the answer. */
    boolean emit(String piece) {
        if (piece.isEmpty()) return true;
        if (holdText) {
            held.append(piece);
            return true;
        }
        try {
            request.listener().onText(piece);
            return true;
        } catch (RuntimeException e) {
            listenerFailed(e);
            return false;
        }
    }

    private void listenerFailed(RuntimeException e) {
        cancelled = new RequestCancelledException(RequestCancelledException.Cause.LISTENER_FAILED,
                "request " + id + ": the stream listener failed (" + e + ")");
        finishReason = null;
    }

    /** Ends the text: flushes a held-back partial character and stop-string prefix, releases held text. */
    void finishText() {
        holdText = false;
        if (held.length() > 0) {
            String h = held.toString();
            held.setLength(0);
            emit(h);
        }
        if (!stops.stopped()) {
            String tail = stops.add(utf8.flush());
            if (!stops.stopped()) tail += stops.finish();
            emit(tail);
        }
    }

    Result result(String finalTier, long now) {
        return new Result(stops.text(), Arrays.copyOf(tokens, count), new Usage(promptTokensFinal, count), finishReason,
                finalTier, decision, hops, new Timings(routeNanos, queueNanos, firstTokenNanos, now - submitNanos));
    }
}
