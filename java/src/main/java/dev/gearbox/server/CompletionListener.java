package dev.gearbox.server;

import dev.gearbox.generate.TokenLogprob;
import dev.gearbox.schedule.Result;

import java.util.List;

/**
 * What a running completion reports, in order: {@link #routed} once, {@link #text} per piece of
 * answer, then per choice {@link #done}, or once {@link #failed} (which ends all choices). Called from the engine's threads.
 */
public interface CompletionListener {
    /** The request has a tier (before any text). */
    void routed(Routing routing);

    /** New answer text of choice {@code choice} (never part of a stop string, never half a UTF-8 character). */
    void text(int choice, String delta);

    default void text(String delta) { text(0, delta); }

    /** Log-probabilities of the tokens whose text comes next (when the request asked for them). */
    default void logprobs(int choice, List<TokenLogprob> tokens) {}

    /** Choice {@code choice} finished; the request is done when every choice is. */
    void done(int choice, Result result);

    default void done(Result result) { done(0, result); }

    void failed(Throwable error);
}
