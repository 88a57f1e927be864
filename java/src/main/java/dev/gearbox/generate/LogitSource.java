package dev.gearbox.generate;

/**
 * What generation needs from a model: a KV-cached sequence that takes tokens and returns the
 * logits of the last one. {@code dev.gearbox.model.Sequence} is adapted to it with {@code seq::...}
 * lambdas; tests use small hand-made ones.
 */
public interface LogitSource {
    /** Number of tokens already in the cache. */
    int position();

    /** Most tokens the cache can hold. */
    int capacity();

    /** Feeds {@code tokens} after the cached ones; returns the logits predicting the next token. */
    float[] forward(int[] tokens);
}
