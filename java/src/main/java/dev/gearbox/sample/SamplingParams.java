package dev.gearbox.sample;

import java.util.List;

/**
 * How the next token is chosen, with llama.cpp's meaning and defaults (llama-cli, common_params_sampling).
 *
 * @param temperature      divides the logits before the final draw; 0 = greedy (argmax, first index on ties). Default 0.8.
 * @param topK             keep the k most likely tokens; 0 or less = keep all. Default 40.
 * @param topP             keep the smallest most-likely set whose probability reaches p; 1 = off. Default 0.95.
 * @param minP             drop tokens less likely than minP times the most likely one; 0 = off. Default 0.05.
 * @param repeatPenalty    logits of tokens seen in the last {@code repeatLastN} are divided by it (multiplied
 *                         when negative); 1 = off. Default 1.0.
 * @param repeatLastN      how many recent tokens (prompt included) the penalties look at; 0 = none, -1 = all. Default 64.
 * @param presencePenalty  subtracted once from the logit of every token seen in the window; 0 = off.
 * @param frequencyPenalty subtracted per occurrence in the window; 0 = off.
 * @param seed             seed of the request's own random generator; negative = a random seed.
 * @param maxTokens        most tokens to generate; negative = until end of generation or a full context.
 * @param stop             strings that end generation; the stop string itself is not part of the output.
 */
public record SamplingParams(
        float temperature,
        int topK,
        float topP,
        float minP,
        float repeatPenalty,
        int repeatLastN,
        float presencePenalty,
        float frequencyPenalty,
        long seed,
        int maxTokens,
        List<String> stop) {

    public static final float DEFAULT_TEMPERATURE = 0.8f;
    public static final int DEFAULT_TOP_K = 40;
    public static final float DEFAULT_TOP_P = 0.95f;
    public static final float DEFAULT_MIN_P = 0.05f;
    public static final float DEFAULT_REPEAT_PENALTY = 1.0f;
    public static final int DEFAULT_REPEAT_LAST_N = 64;

    public SamplingParams {
        check(Float.isFinite(temperature) && temperature >= 0, "temperature must be a finite number >= 0, got " + temperature);
        check(topP >= 0 && topP <= 1, "top-p must be in [0, 1], got " + topP);
        check(minP >= 0 && minP <= 1, "min-p must be in [0, 1], got " + minP);
        check(Float.isFinite(repeatPenalty) && repeatPenalty > 0, "repeat penalty must be > 0, got " + repeatPenalty);
        check(repeatLastN >= -1, "repeat-last-n must be -1 (all), 0 (off) or positive, got " + repeatLastN);
        check(Float.isFinite(presencePenalty), "presence penalty must be finite, got " + presencePenalty);
        check(Float.isFinite(frequencyPenalty), "frequency penalty must be finite, got " + frequencyPenalty);
        stop = stop == null ? List.of() : List.copyOf(stop);
        for (String s : stop) check(!s.isEmpty(), "a stop string must not be empty");
    }

    private static void check(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }

    /** llama.cpp's defaults: temp 0.8, top-k 40, top-p 0.95, min-p 0.05, no penalties, random seed, no limit. */
    public static SamplingParams defaults() {
        return builder().build();
    }

    /** Greedy decoding: always the most likely token. */
    public static SamplingParams greedy() {
        return builder().temperature(0).build();
    }

    public boolean isGreedy() {
        return temperature == 0 || topK == 1;
    }

    public Builder toBuilder() {
        return new Builder().temperature(temperature).topK(topK).topP(topP).minP(minP)
                .repeatPenalty(repeatPenalty).repeatLastN(repeatLastN).presencePenalty(presencePenalty)
                .frequencyPenalty(frequencyPenalty).seed(seed).maxTokens(maxTokens).stop(stop);
    }

    public static Builder builder() {
        return new Builder();
    }

    public static final class Builder {
        private float temperature = DEFAULT_TEMPERATURE;
        private int topK = DEFAULT_TOP_K;
        private float topP = DEFAULT_TOP_P;
        private float minP = DEFAULT_MIN_P;
        private float repeatPenalty = DEFAULT_REPEAT_PENALTY;
        private int repeatLastN = DEFAULT_REPEAT_LAST_N;
        private float presencePenalty;
        private float frequencyPenalty;
        private long seed = -1;
        private int maxTokens = -1;
        private List<String> stop = List.of();

        private Builder() {}

        public Builder temperature(float v) { temperature = v; return this; }
        public Builder topK(int v) { topK = v; return this; }
        public Builder topP(float v) { topP = v; return this; }
        public Builder minP(float v) { minP = v; return this; }
        public Builder repeatPenalty(float v) { repeatPenalty = v; return this; }
        public Builder repeatLastN(int v) { repeatLastN = v; return this; }
        public Builder presencePenalty(float v) { presencePenalty = v; return this; }
        public Builder frequencyPenalty(float v) { frequencyPenalty = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder maxTokens(int v) { maxTokens = v; return this; }
        public Builder stop(List<String> v) { stop = v == null ? List.of() : v; return this; }

        public SamplingParams build() {
            return new SamplingParams(temperature, topK, topP, minP, repeatPenalty, repeatLastN,
                    presencePenalty, frequencyPenalty, seed, maxTokens, stop);
        }
    }
}
