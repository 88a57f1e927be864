package dev.gearbox.server;

import java.util.List;

/**
 * What the HTTP layer needs from whatever runs generations: submit with a listener, cancel, and
 * the numbers the metrics show. Implementations must never block {@link #submit} on generation.
 */
public interface CompletionEngine extends AutoCloseable {

    /** A submitted request; {@link #cancel} frees its slot and cache at once (client gone). */
    interface Ticket {
        void cancel();
    }

    /** The tiers a client may name, smallest first ("auto" is added by the server). */
    List<String> tierNames();

    /**
     * Validates and queues a job. Throws {@link ApiError} (404 unknown tier, 400 prompt over the
     * context ({@code context_length_exceeded}) or a logit_bias id outside the vocabulary, 429
     * queue full); such a throw ends the request, whatever the listener was told before.
     */
    Ticket submit(CompletionJob job, CompletionListener listener);

    /** Requests waiting for a slot. */
    int queueDepth();

    /** KV cache positions in use across tiers, as a share of those allowed (0..1). */
    double kvCacheUsage();

    @Override
    void close();
}
