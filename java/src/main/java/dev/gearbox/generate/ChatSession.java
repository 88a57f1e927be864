package dev.gearbox.generate;

import dev.gearbox.sample.SamplingParams;

import java.util.Arrays;

/**
 * A conversation on one KV cache. Each turn hands over the token ids of the whole conversation as
 * the chat template renders it; only what is new since the cached tokens is prefilled. Where the
 * re-rendered conversation differs from what the cache holds (a template that rewrites history,
 * or text that tokenizes differently when re-encoded), the cache is cut back to the common prefix.
 */
public final class ChatSession {
    private final Generator generator;
    private final LogitSource seq;
    private int[] cached = new int[0]; // the ids in seq, position by position

    public ChatSession(Generator generator, LogitSource seq) {
        this.generator = generator;
        this.seq = seq;
        if (seq.position() != 0) throw new IllegalArgumentException("a chat session needs an empty sequence");
    }

    /** Tokens the cache holds now. */
    public int cachedTokens() {
        return seq.position();
    }

    /** Generates the assistant's reply to {@code conversation} (the full rendered prompt). */
    public GenerationResult reply(int[] conversation, SamplingParams params, Generator.TextListener listener) {
        int common = 0;
        int max = Math.min(cached.length, conversation.length);
        while (common < max && cached[common] == conversation[common]) common++;
        if (common == conversation.length) common--; // at least one token must run to get logits
        if (common < 0) throw new IllegalArgumentException("the conversation has no tokens");
        if (common < seq.position()) seq.truncate(common);
        int[] history = Arrays.copyOf(conversation, common);
        int[] fresh = Arrays.copyOfRange(conversation, common, conversation.length);

        GenerationResult r;
        try {
            r = generator.generate(seq, history, fresh, params, listener);
        } catch (RuntimeException e) {
            cached = Arrays.copyOf(conversation, Math.min(seq.position(), conversation.length));
            throw e;
        }

        // The cache now holds the conversation plus every generated token but the last one sampled.
        int fed = seq.position();
        int[] now = Arrays.copyOf(conversation, fed);
        System.arraycopy(r.tokens(), 0, now, conversation.length, fed - conversation.length);
        cached = now;
        return r;
    }
}
