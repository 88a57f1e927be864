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

    /**
     * Requests holding a slot on a tier (being prefilled or decoded), all tiers together; -1 when
     * this engine does not count them, and the metrics then show the server's completion requests
     * in flight less those queued (an upper bound: it also counts requests still being routed).
     */
    default int runningRequests() { return -1; }

    /** The prompt tier {@code model} (null: the smallest) makes of a conversation, as its chat template renders it. */
    default String applyTemplate(String model, dev.gearbox.template.Conversation chat) {
        throw new ApiError(501, "server_error", null, "not_supported", "this engine has no chat templates");
    }

    /** Token ids of {@code text} in tier {@code model}'s vocabulary (null: the smallest), BOS/EOS as its metadata says when {@code addSpecial}. */
    default int[] tokenize(String model, String text, boolean addSpecial) {
        throw new ApiError(501, "server_error", null, "not_supported", "this engine has no tokenizer");
    }

    /** The text of token ids in tier {@code model}'s vocabulary (null: the smallest). */
    default String detokenize(String model, int[] tokens) {
        throw new ApiError(501, "server_error", null, "not_supported", "this engine has no tokenizer");
    }

    /**
     * Why {@code model} is not served, naming what is (a {@code tier:task} whose tier lacks the
     * expert names the tier's experts), or null for the generic message.
     */
    default String unknownModel(String model) { return null; }

    /**
     * What {@code /v1/models} shows of {@code model} beyond OpenAI's fields (an expert's tier, form
     * and approximation error), or an empty map.
     */
    default java.util.Map<String, Object> modelDetails(String model) { return java.util.Map.of(); }

    /** Prefix caches over all tiers: {lookups, lookups that reused a block, tokens reused}. */
    default long[] prefixCache() { return new long[3]; }

    @Override
    void close();
}
