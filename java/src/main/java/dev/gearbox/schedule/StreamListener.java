package dev.gearbox.schedule;

import dev.gearbox.router.Decision;

/**
 * Streams an answer as it is generated. Called from the tier's executor thread, in order, one
 * call at a time per request; keep it quick (hand the piece to the network and return). An
 * exception thrown here cancels the request (a client that went away).
 */
public interface StreamListener {
    /**
     * Where the request goes, once, before any text: called on the routing thread for {@code auto}
     * requests, on the submitting thread for a named tier.
     */
    default void onRouted(Decision decision) {}

    /**
     * The next piece of final text: whole UTF-8 characters only, never part of a stop string, never
     * the text of control tokens. When escalation restarts an answer on a larger tier, text is held
     * back until it can no longer be taken back, so what was streamed is always a prefix of the result.
     */
    void onText(String piece);

    /** Each generated token id, as sampled (before stop-string handling). */
    default void onToken(int token) {}

    /** With {@link Request#withLogprobs}: the answer tokens' log-probabilities, just before the text they belong with. */
    default void onLogprobs(java.util.List<dev.gearbox.generate.TokenLogprob> tokens) {}

    StreamListener NONE = piece -> {};
}
