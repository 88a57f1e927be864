package dev.gearbox.generate;

/**
 * The outcome of one generation request.
 *
 * @param promptTokens  the ids prefilled for this request
 * @param tokens        the answer's ids: never the end-of-generation token; the token that completed a stop string or
 *                      reached the limit is included (it was chosen but not fed back to the model)
 * @param text          the generated text shown to the user: control tokens and the stop string excluded
 * @param logprobs      per generated token, its log-probability under the model (log-softmax of the raw logits)
 * @param stopReason    why generation ended
 * @param stopString    the stop string that ended it, or null
 * @param seed          the sampler's seed (the random one drawn when none was asked for)
 * @param prefillNanos  time of the one batched forward pass over the prompt
 * @param decodeNanos   time of the single-token forward passes
 * @param decodeSteps   how many single-token forward passes ran
 * @param sampleNanos   time spent choosing tokens
 */
public record GenerationResult(
        int[] promptTokens,
        int[] tokens,
        String text,
        float[] logprobs,
        StopReason stopReason,
        String stopString,
        long seed,
        long prefillNanos,
        long decodeNanos,
        int decodeSteps,
        long sampleNanos) {

    public double prefillTokensPerSecond() {
        return prefillNanos == 0 ? 0 : promptTokens.length * 1e9 / prefillNanos;
    }

    public double decodeTokensPerSecond() {
        return decodeNanos == 0 ? 0 : decodeSteps * 1e9 / decodeNanos;
    }
}
