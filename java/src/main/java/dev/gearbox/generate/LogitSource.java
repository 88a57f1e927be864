package dev.gearbox.generate;

import dev.gearbox.model.Sequence;

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

    static LogitSource of(Sequence seq) {
        return new LogitSource() {
            @Override public int position() { return seq.position(); }
            @Override public int capacity() { return seq.capacity(); }
            @Override public float[] forward(int[] tokens) { return seq.forward(tokens); }
            @Override public void truncate(int n) { seq.truncate(n); }
        };
    }
}
