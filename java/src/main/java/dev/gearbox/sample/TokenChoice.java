package dev.gearbox.sample;

/**
 * A token choice that needs nothing but the logits of one step: {@link SamplingParams}'s cuts and
 * temperature, without penalties, drawn by the Gumbel-max trick from noise hashed from
 * ({@code seed}, step, token index). Because the draw is a pure function of the logits and the step,
 * a backend can make it where the logits live (the CUDA kernel gbx_sample draws the same numbers)
 * and bring back only the token id and its log-probability; {@link #choose} is the same choice on
 * the CPU. Its tokens follow the same distribution as {@link Sampler}'s, not the same sequence.
 *
 * @param temperature 0 = greedy
 * @param topK        0 or less = off
 * @param topP        1 = off
 * @param minP        0 = off
 * @param seed        the request's seed (any value)
 */
public record TokenChoice(float temperature, int topK, float topP, float minP, long seed) {

    /** The chosen token and its log-probability under softmax of the raw logits. */
    public record Choice(int token, float logprob) {}

    public TokenChoice {
        if (!(temperature >= 0) || !Float.isFinite(temperature)) throw new IllegalArgumentException("temperature must be a finite number >= 0, got " + temperature);
        if (!(topP >= 0 && topP <= 1)) throw new IllegalArgumentException("top-p must be in [0, 1], got " + topP);
        if (!(minP >= 0 && minP <= 1)) throw new IllegalArgumentException("min-p must be in [0, 1], got " + minP);
    }

    /**
     * The choice {@code params} describe with {@code seed}, or null when only the host's
     * {@link Sampler} can make it: penalties look at earlier tokens, and a logit bias changes the
     * logits, which the device draw (gbx_sample) takes as they are. This is the one place that
     * decides between the device's choice and the host's.
     */
    public static TokenChoice of(SamplingParams params, long seed) {
        boolean windowed = params.repeatLastN() != 0 || params.penaltyScope() == SamplingParams.PenaltyScope.ANSWER;
        boolean repeat = params.repeatLastN() != 0 && params.repeatPenalty() != 1f;
        boolean counted = windowed && (params.presencePenalty() != 0f || params.frequencyPenalty() != 0f);
        if (repeat || counted || !params.logitBias().isEmpty()) return null;
        return new TokenChoice(params.temperature(), params.topK(), params.topP(), params.minP(), seed);
    }

    public boolean greedy() {
        return temperature == 0;
    }

    /** Chooses from {@code logits} (read, never modified) at draw number {@code step}. */
    public Choice choose(float[] logits, int step) {
        if (logits.length == 0) throw new IllegalArgumentException("cannot choose from an empty vocabulary");
        int token;
        if (greedy()) {
            token = Sampler.argmax(logits);
        } else {
            Sampler cuts = new Sampler(SamplingParams.builder().temperature(temperature).topK(topK).topP(topP).minP(minP)
                    .repeatPenalty(1f).presencePenalty(0f).frequencyPenalty(0f).seed(0).build());
            token = cuts.drawGumbel(logits, seed, step);
        }
        return new Choice(token, Sampler.logSoftmaxAt(logits, token));
    }
}
