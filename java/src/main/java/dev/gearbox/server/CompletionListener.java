package dev.gearbox.server;

import dev.gearbox.generate.TokenLogprob;
import dev.gearbox.schedule.Result;

import java.util.List;

/**
 * What a running completion reports, in order: {@link #routed} once, {@link #text} per piece of
 * answer, then exactly one of {@link #done} or {@link #failed}. Called from the engine's threads.
 */
public interface CompletionListener {
    /** The request has a tier (before any text). */
    void routed(Routing routing);

    /** New answer text (never part of a stop string, never half a UTF-8 character). */
    void text(String delta);

    /** Log-probabilities of the tokens whose text comes next (when the request asked for them). */
    default void logprobs(List<TokenLogprob> tokens) {}

    void done(Result result);

    void failed(Throwable error);
}
