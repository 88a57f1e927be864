package dev.gearbox.generate;

import dev.gearbox.model.Sequence;
import dev.gearbox.sample.TokenChoice;

/**
 * What generation needs from a model: a KV-cached sequence that takes tokens and returns the
 * logits of the last one. {@link #of(Sequence)} adapts a real model sequence; tests use small
 * hand-made ones.
 */
public interface LogitSource {
    /** Number of tokens already in the cache. */
    int position();

    /** Most tokens the cache can hold. */
    int capacity();

    /** Feeds {@code tokens} after the cached ones; returns the logits predicting the next token. */
    float[] forward(int[] tokens);

    /** Forgets every cached token after the first {@code n}. */
    void truncate(int n);

    /**
     * True when {@link #forwardChoose} chooses where the logits live (a GPU), so that generation
     * should prefer it to {@link #forward} whenever the sampling settings allow (no penalties).
     */
    default boolean choosesOnDevice() { return false; }

    /** Feeds {@code tokens} and chooses the next token as {@code choice} says, for draw number {@code step}. */
    default TokenChoice.Choice forwardChoose(int[] tokens, TokenChoice choice, int step) {
        return choice.choose(forward(tokens), step);
    }

    static LogitSource of(Sequence seq) {
        return new LogitSource() {
            @Override public int position() { return seq.position(); }
            @Override public int capacity() { return seq.capacity(); }
            @Override public float[] forward(int[] tokens) { return seq.forward(tokens); }
            @Override public void truncate(int n) { seq.truncate(n); }
            @Override public boolean choosesOnDevice() { return seq.model().backend().choosesOnDevice(); }
            @Override public TokenChoice.Choice forwardChoose(int[] tokens, TokenChoice choice, int step) {
                return seq.forwardChoose(tokens, choice, step);
            }
        };
    }
}
