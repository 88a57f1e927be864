package dev.gearbox.generate;

import dev.gearbox.constrain.Constraint;
import dev.gearbox.constrain.Grammar;
import dev.gearbox.sample.Sampler;
import dev.gearbox.sample.SamplingParams;
import dev.gearbox.sample.TokenChoice;
import dev.gearbox.tokenizer.Tokenizer;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * One answer being generated, and the one decode policy every way of answering a prompt follows
 * (generate, chat, and through the scheduler serve, batch, calibrate, demo and route): how the next
 * token is chosen, what ends the answer (an end-of-generation token, a stop string, the token
 * limit, a full context), when a watched tier hands the request up the ladder (escalation window
 * and budget), which text is final (whole UTF-8 characters, never part of a stop string, never a
 * control token's text, held back while an escalation could still restart the answer), and what an
 * escalation keeps. Callers own the model work (which sequence, which batch, which device); they
 * hand every chosen token to {@link #accept} and do what the returned {@link Step} says.
 *
 * <p>Not thread-safe: one request, one thread at a time.
 */
public final class Answer {
    /** What the caller does after a token: feed it and go on, stop, or move the request up the ladder. */
    public enum Step { CONTINUE, DONE, ESCALATE }

    /** Where the answer goes as it becomes final. Exceptions thrown here propagate to the caller of {@link #accept}. */
    public interface Sink {
        /** The next piece of final text. */
        void onText(String piece);

        /** Each chosen token id, as chosen (before stop-string handling); the end-of-generation token too. */
        default void onToken(int token) {}

        /**
         * Log-probabilities of answer tokens (when asked for), handed over just before the text they
         * belong with, so a stream never reports tokens an escalation could still take back.
         */
        default void onLogprobs(List<TokenLogprob> tokens) {}

        Sink NONE = piece -> {};
    }

    /**
     * Escalation watch on a tier: the tier hands the request up when the mean log-probability of
     * its own last {@code window} tokens falls below {@code minMeanLogprob}.
     */
    public record Watch(int window, double minMeanLogprob) {
        public Watch {
            if (window < 1) throw new IllegalArgumentException("escalation window must be at least 1 token, got " + window);
        }
    }

    private final SamplingParams params;
    private final Sink sink;
    private final int maxTokens;
    private final int topLogprobs;             // -1: no log-probabilities asked for
    private final Grammar grammar;             // structured output: what the answer must be a sentence of, or null
    private Constraint constraint;
    private final List<TokenLogprob> logprobEntries = new ArrayList<>();
    private int logprobsReleased;              // entries handed to the sink so far

    private Sampler sampler;
    private TokenChoice deviceChoice;
    private boolean deviceChoiceChecked;
    private int draws;                 // choices made, over all hops: a device's noise never repeats within a request
    private Utf8Stream utf8 = new Utf8Stream();
    private StopMatcher stops;
    private final StringBuilder held = new StringBuilder();
    private int[] tokens = new int[16];
    private float[] logprobs = new float[16];
    private int count;

    // the current hop
    private Tokenizer tok;
    private Watch watch;
    private boolean keepOnEscalate;
    private boolean holdText;
    private int hopStart;
    private double windowSum;

    private StopReason stopReason;     // set when the answer ended
    private String escalateReason;     // set when the current hop asked to escalate

    /**
     * @param params sampling, stop strings and the token limit ({@code maxTokens} below 0 = until the context is full)
     * @param sink   receives the final text
     */
    public Answer(SamplingParams params, Sink sink) {
        this(params, sink, -1);
    }

    /**
     * {@code topLogprobs}: -1 = no per-token log-probabilities; 0 = each token's own; n > 0 = also
     * the n most likely tokens at each step (the choice is then made on the host, where the logits are).
     */
    public Answer(SamplingParams params, Sink sink, int topLogprobs) {
        this(params, sink, topLogprobs, null);
    }

    /**
     * {@code grammar}: when not null, only tokens that keep the answer a prefix of a sentence of it
     * may be chosen (constrained decoding: a JSON schema, any JSON object, a GBNF grammar), and the
     * answer ends when the grammar says nothing more can follow.
     */
    public Answer(SamplingParams params, Sink sink, int topLogprobs, Grammar grammar) {
        if (topLogprobs > 20) throw new IllegalArgumentException("top_logprobs must be at most 20, got " + topLogprobs);
        this.grammar = grammar;
        this.topLogprobs = topLogprobs;
        this.params = params;
        this.sink = sink;
        this.maxTokens = params.maxTokens() < 0 ? Integer.MAX_VALUE : params.maxTokens();
        this.sampler = new Sampler(params);
        this.stops = new StopMatcher(params.stop());
    }

    /**
     * Starts (or continues) the answer on a model with {@code tok}'s vocabulary after {@code prompt}
     * (the penalties' history starts with it; a continued answer keeps its sampler and history).
     * {@code watch}: the escalation watch of this model's tier, or null. {@code keepOnEscalate}:
     * an escalation from here keeps the answer so far (the next tier continues it), so the token
     * budget must have room left to escalate; otherwise the next tier restarts it, and the text is
     * held back until the answer can no longer be taken back.
     */
    public void startHop(Tokenizer tok, int[] prompt, Watch watch, boolean keepOnEscalate) {
        this.tok = tok;
        this.watch = watch;
        this.keepOnEscalate = keepOnEscalate;
        this.holdText = watch != null && !keepOnEscalate;
        this.hopStart = count;
        this.windowSum = 0;
        this.escalateReason = null;
        if (count == 0) sampler.acceptAll(prompt);
        // A kept answer keeps its constraint (same vocabulary); a fresh one starts one in this vocabulary.
        if (grammar != null && (constraint == null || count == 0)) constraint = Constraints.newConstraint(grammar, tok);
    }

    /** Forgets the answer so far (an escalation to a tier that starts over): a fresh sampler, no tokens, no text. */
    public void restart() {
        count = 0;
        hopStart = 0;
        utf8 = new Utf8Stream();
        stops = new StopMatcher(params.stop());
        held.setLength(0);
        logprobEntries.clear();
        logprobsReleased = 0;
        constraint = null;
        sampler = new Sampler(params);
        deviceChoice = null;
        deviceChoiceChecked = false;
    }

    /** True when no token may be chosen any more (a limit of 0, or one reached); ends the answer with {@code max_tokens}. */
    public boolean atLimit() {
        if (count < maxTokens) return false;
        if (stopReason == null) stopReason = StopReason.MAX_TOKENS;
        return true;
    }

    /** Chooses the next token on the host from the logits after the last fed token. */
    public Sampler.Choice choose(float[] logits) {
        if (logits.length != tok.vocabSize()) {
            throw new IllegalStateException("the model returned " + logits.length + " logits but the vocabulary has " + tok.vocabSize() + " tokens");
        }
        if (topLogprobs > 0) alternatives = topAlternatives(logits, topLogprobs);
        Sampler.Choice c = sampler.sample(logits);
        if (constraint != null && !constraint.allows(c.token())) {
            // The model's choice breaks the grammar: choose again among the tokens it allows (as llama.cpp
            // does), reporting the log-probability under the model's own distribution.
            float[] masked = logits.clone();
            constraint.mask(masked);
            int t = sampler.sample(masked).token();
            c = new Sampler.Choice(t, Sampler.logSoftmaxAt(logits, t));
        }
        return c;
    }

    private List<TokenLogprob.Alternative> alternatives = List.of();

    /** The n largest logits' tokens with their log-softmax values, most likely first. */
    private List<TokenLogprob.Alternative> topAlternatives(float[] logits, int n) {
        int[] best = new int[n];
        int found = 0;
        for (int i = 0; i < logits.length; i++) {
            if (found < n) {
                best[found++] = i;
            } else if (logits[i] > logits[best[n - 1]]) {
                best[n - 1] = i;
            } else {
                continue;
            }
            for (int j = found - 1; j > 0 && logits[best[j]] > logits[best[j - 1]]; j--) {
                int t = best[j];
                best[j] = best[j - 1];
                best[j - 1] = t;
            }
        }
        // The same log-softmax as the chosen token's own (Sampler.logSoftmaxAt), so the two agree exactly.
        double lse = Sampler.logSumExp(logits);
        List<TokenLogprob.Alternative> out = new ArrayList<>(found);
        for (int j = 0; j < found; j++) {
            byte[] b = tok.tokenBytes(best[j]);
            out.add(new TokenLogprob.Alternative(best[j], new String(b, StandardCharsets.UTF_8), b, (float) (logits[best[j]] - lse)));
        }
        return out;
    }

    /**
     * The one-step choice that lets a device choose this answer's next token where the logits live
     * ({@link TokenChoice}), or null when the settings need the host's sampler (penalties).
     */
    public TokenChoice deviceChoice() {
        if (!deviceChoiceChecked) {
            // Alternatives and grammars need the whole distribution: then the host chooses.
            deviceChoice = topLogprobs > 0 || grammar != null ? null : TokenChoice.of(params, sampler.seed());
            deviceChoiceChecked = true;
        }
        return deviceChoice;
    }

    /** The draw number the next device choice uses. */
    public int draws() { return draws; }

    /** {@link #accept(Sampler.Choice, boolean)} for a token a device chose. */
    public Step accept(TokenChoice.Choice chosen, boolean contextFull) {
        if (chosen.token() < 0 || chosen.token() >= tok.vocabSize()) {
            throw new IllegalStateException("the device chose token " + chosen.token() + " but the vocabulary has " + tok.vocabSize() + " tokens");
        }
        return accept(new Sampler.Choice(chosen.token(), chosen.logprob()), contextFull);
    }

    /**
     * Takes the chosen next token. {@code contextFull}: the sequence has no room to feed it back.
     * Returns whether to feed it and go on, stop ({@link #stopReason()} says why), or escalate
     * ({@link #escalateReason()} says why).
     */
    public Step accept(Sampler.Choice c, boolean contextFull) {
        draws++;
        int token = c.token();
        sink.onToken(token);
        if (constraint != null) constraint.accept(token);   // throws for a token the grammar does not allow
        if (tok.isEndOfGeneration(token)) return end(StopReason.END_OF_GENERATION);
        if (count == tokens.length) {
            tokens = Arrays.copyOf(tokens, count * 2);
            logprobs = Arrays.copyOf(logprobs, count * 2);
        }
        tokens[count] = token;
        logprobs[count++] = c.logprob();
        sampler.accept(token);
        if (topLogprobs >= 0) {
            byte[] b = tok.tokenBytes(token);
            logprobEntries.add(new TokenLogprob(token, new String(b, StandardCharsets.UTF_8), b, c.logprob(), alternatives));
            alternatives = List.of();
        }
        if (!tok.isControl(token)) {
            emit(stops.add(utf8.accept(tok.tokenBytes(token))));
            if (stops.stopped()) return end(StopReason.STOP_STRING);
        }
        if (constraint != null && constraint.complete()) return end(StopReason.END_OF_GENERATION);   // nothing more may follow
        if (watch != null) {
            int generated = count - hopStart;
            windowSum += c.logprob();
            if (generated > watch.window()) windowSum -= logprobs[count - 1 - watch.window()];
            // Keeping the partial answer needs budget left to continue it; a restart gets the whole budget again.
            boolean budgetLeft = !keepOnEscalate || count < maxTokens;
            if (generated >= watch.window() && budgetLeft) {
                double mean = windowSum / watch.window();
                if (mean < watch.minMeanLogprob()) {
                    escalateReason = String.format(Locale.ROOT, "escalate: mean logprob %.3f over the last %d tokens < %.3f",
                            mean, watch.window(), watch.minMeanLogprob());
                    return Step.ESCALATE;
                }
            }
        }
        if (count >= maxTokens) return end(StopReason.MAX_TOKENS);
        if (contextFull) return end(StopReason.CONTEXT_FULL);
        return Step.CONTINUE;
    }

    private Step end(StopReason r) {
        stopReason = r;
        return Step.DONE;
    }

    private void emit(String piece) {
        if (piece.isEmpty() || holdText) {
            if (!piece.isEmpty()) held.append(piece);
            return;
        }
        releaseLogprobs();
        sink.onText(piece);
    }

    private void releaseLogprobs() {
        if (logprobsReleased == logprobEntries.size()) return;
        List<TokenLogprob> out = List.copyOf(logprobEntries.subList(logprobsReleased, logprobEntries.size()));
        logprobsReleased = logprobEntries.size();
        sink.onLogprobs(out);
    }

    /** Ends the text: releases held-back text, a partial UTF-8 character and a possible stop-string prefix. */
    public void finish() {
        holdText = false;
        if (held.length() > 0) {
            String h = held.toString();
            held.setLength(0);
            emit(h);
        }
        if (!stops.stopped()) {
            String tail = stops.add(utf8.flush());
            if (!stops.stopped()) tail += stops.finish();
            else stopReason = StopReason.STOP_STRING;
            emit(tail);
        }
        if (!holdText) releaseLogprobs();
    }

    /** Per answer token, its log-probability and alternatives; null when none were asked for. */
    public List<TokenLogprob> tokenLogprobs() {
        return topLogprobs < 0 ? null : List.copyOf(logprobEntries);
    }

    /** Answer tokens so far (never the end-of-generation token). */
    public int count() { return count; }

    /** Answer tokens chosen on the current hop. */
    public int hopTokens() { return count - hopStart; }

    public int[] tokens() { return Arrays.copyOf(tokens, count); }

    /** Per answer token, its log-probability under the model that chose it (softmax of the raw logits). */
    public float[] logprobs() { return Arrays.copyOf(logprobs, count); }

    /** The answer's text: control tokens and any stop string excluded; complete after {@link #finish()}. */
    public String text() { return stops.text(); }

    /** Why the answer ended, or null while it goes on (or escalates). */
    public StopReason stopReason() { return stopReason; }

    /** The stop string that ended it, or null. */
    public String stopString() { return stops.matched(); }

    /** Why the current hop asked to escalate, or null. */
    public String escalateReason() { return escalateReason; }

    /** The current hop's end in {@code Hop}'s words: eos, stop_string, max_tokens, context, or escalate: .... */
    public String hopReason() {
        if (escalateReason != null) return escalateReason;
        return stopReason == null ? "cancelled" : stopReason.hopLabel();
    }

    /** OpenAI's finish_reason: {@code stop} (end of generation or a stop string), {@code length} (token limit or context). */
    public String finishReason() {
        if (stopReason == null) return null;
        return switch (stopReason) {
            case END_OF_GENERATION, STOP_STRING -> "stop";
            case MAX_TOKENS, CONTEXT_FULL -> "length";
        };
    }

    /** The sampler's seed (a random one was drawn when none was asked for). */
    public long seed() { return sampler.seed(); }
}
