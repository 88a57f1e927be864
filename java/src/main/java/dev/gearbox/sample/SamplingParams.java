package dev.gearbox.sample;

import java.util.List;
import java.util.Map;

/**
 * How the next token is chosen, with llama.cpp's meaning and defaults (llama-cli, common_params_sampling).
 *
 * @param temperature      divides the logits before the final draw; 0 = greedy (argmax, first index on ties). Default 0.8.
 * @param topK             keep the k most likely tokens; 0 or less = keep all. Default 40.
 * @param topP             keep the smallest most-likely set whose probability reaches p; 1 = off. Default 0.95.
 * @param minP             drop tokens less likely than minP times the most likely one; 0 = off. Default 0.05.
 * @param repeatPenalty    logits of tokens seen in the last {@code repeatLastN} are divided by it (multiplied
 *                         when negative); 1 = off. Default 1.0.
 * @param repeatLastN      how many recent tokens (prompt included) the repeat penalty, and the presence and frequency
 *                         penalties in {@link PenaltyScope#WINDOW} scope, look at; 0 = none, -1 = all. Default 64.
 * @param presencePenalty  subtracted once from the logit of every token counted (see {@code penaltyScope}); 0 = off.
 * @param frequencyPenalty subtracted per counted occurrence; 0 = off.
 * @param seed             seed of the request's own random generator, any value; null = none (a random one is drawn).
 * @param maxTokens        most tokens to generate; negative = until end of generation or a full context.
 * @param stop             strings that end generation; the stop string itself is not part of the output.
 * @param logitBias        token id to a number added to its logit before the choice (OpenAI's logit_bias);
 *                         empty = none. Ids are of the answering model's vocabulary.
 * @param penaltyScope     which tokens the presence and frequency penalties count: {@link PenaltyScope#WINDOW}
 *                         (llama.cpp, the default) or {@link PenaltyScope#ANSWER} (OpenAI).
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
        Long seed,
        int maxTokens,
        List<String> stop,
        Map<Integer, Float> logitBias,
        PenaltyScope penaltyScope) {

    /** The tokens presence and frequency penalties count. The repeat penalty always looks at the window. */
    public enum PenaltyScope {
        /** llama.cpp's: the last {@code repeatLastN} tokens of the context, prompt included. */
        WINDOW,
        /** OpenAI's: every token generated so far in this answer, never the prompt, whatever {@code repeatLastN} says. */
        ANSWER
    }

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
        logitBias = logitBias == null ? Map.of() : Map.copyOf(logitBias);
        for (Map.Entry<Integer, Float> e : logitBias.entrySet()) {
            check(e.getKey() >= 0, "a logit bias token id must not be negative, got " + e.getKey());
            check(Float.isFinite(e.getValue()), "the logit bias of token " + e.getKey() + " must be finite, got " + e.getValue());
        }
        penaltyScope = penaltyScope == null ? PenaltyScope.WINDOW : penaltyScope;
    }

    private static void check(boolean ok, String message) {
        if (!ok) throw new IllegalArgumentException(message);
    }

    /** llama.cpp's defaults: temp 0.8, top-k 40, top-p 0.95, min-p 0.05, no penalties, no seed (a random one), no limit. */
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
                .frequencyPenalty(frequencyPenalty).seed(seed).maxTokens(maxTokens).stop(stop)
                .logitBias(logitBias).penaltyScope(penaltyScope);
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
        private Long seed;
        private int maxTokens = -1;
        private List<String> stop = List.of();
        private Map<Integer, Float> logitBias = Map.of();
        private PenaltyScope penaltyScope = PenaltyScope.WINDOW;

        private Builder() {}

        public Builder temperature(float v) { temperature = v; return this; }
        public Builder topK(int v) { topK = v; return this; }
        public Builder topP(float v) { topP = v; return this; }
        public Builder minP(float v) { minP = v; return this; }
        public Builder repeatPenalty(float v) { repeatPenalty = v; return this; }
        public Builder repeatLastN(int v) { repeatLastN = v; return this; }
        public Builder presencePenalty(float v) { presencePenalty = v; return this; }
        public Builder frequencyPenalty(float v) { frequencyPenalty = v; return this; }
        /** A seed: every value, negative ones too, is a seed (the same seed gives the same tokens). */
        public Builder seed(long v) { seed = v; return this; }
        /** {@code v} as the seed, or none (a random one is drawn) when null. */
        public Builder seed(Long v) { seed = v; return this; }
        /** No seed: the sampler draws a random one (and reports it). */
        public Builder randomSeed() { seed = null; return this; }
        public Builder maxTokens(int v) { maxTokens = v; return this; }
        public Builder stop(List<String> v) { stop = v == null ? List.of() : v; return this; }
        public Builder logitBias(Map<Integer, Float> v) { logitBias = v == null ? Map.of() : v; return this; }
        public Builder penaltyScope(PenaltyScope v) { penaltyScope = v; return this; }

        public SamplingParams build() {
            return new SamplingParams(temperature, topK, topP, minP, repeatPenalty, repeatLastN,
                    presencePenalty, frequencyPenalty, seed, maxTokens, stop, logitBias, penaltyScope);
        }
    }
}
