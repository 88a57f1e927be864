package dev.gearbox.constrain;

import java.util.Objects;

/**
 * A grammar compiled against one vocabulary, shared by every request that uses that grammar:
 * the lazily built recognizer (states, their per-byte transitions, cached masks and the
 * context-independent mask parts) lives here, so the second request with the same schema finds its
 * masks already computed. Thread-safe: the {@link Constraint}s it hands out lock the shared
 * recognizer for each call (calls take microseconds; a mask never seen before up to a few
 * milliseconds). Servers should keep one per (schema, tokenizer), e.g. in a small LRU map keyed by
 * the schema text.
 * <p>
 * Memory is bounded: once the shared recognizer holds more than {@link Recognizer#MAX_STATES}
 * states (about 1 KiB each), new requests get a fresh one, and a running request whose recognizer
 * grows past twice that moves its state over to the fresh one.
 */
public final class ConstraintIndex {
    final Grammar grammar;
    final TokenVocabulary vocab;
    final int maxStates;
    private Recognizer shared;

    ConstraintIndex(Grammar grammar, TokenVocabulary vocab, int maxStates) {
        this.grammar = Objects.requireNonNull(grammar, "grammar");
        this.vocab = Objects.requireNonNull(vocab, "vocab");
        this.maxStates = maxStates;
        this.shared = new Recognizer(grammar);
    }

    public static ConstraintIndex of(Grammar grammar, TokenVocabulary vocab) {
        return new ConstraintIndex(grammar, vocab, Recognizer.MAX_STATES);
    }

    /** A new request's constraint, at the start of the grammar. */
    public Constraint newConstraint() {
        return new Constraint(this);
    }

    public Grammar grammar() {
        return grammar;
    }

    public TokenVocabulary vocabulary() {
        return vocab;
    }

    /** The recognizer new work should use: the shared one, replaced when it has grown too large. */
    synchronized Recognizer recognizer() {
        int states;
        synchronized (shared) {
            states = shared.stateCount();
        }
        if (states > maxStates) shared = new Recognizer(grammar);
        return shared;
    }
}
