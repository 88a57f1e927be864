package dev.gearbox.router;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The gatekeeper's readable signals about one prompt (surprisals and entropy in nats).
 *
 * @param promptTokens      tokens the gatekeeper read (BOS included; cut to its context if longer)
 * @param promptChars       characters of the prompt text
 * @param meanSurprisal     mean of -log p(next prompt token) over the prompt
 * @param maxSurprisal      largest single surprisal
 * @param stdSurprisal      standard deviation of the surprisals
 * @param lastKMeanSurprisal mean surprisal of the last {@link Gatekeeper#LAST_K} prompt tokens
 * @param entropy           entropy of the next-token distribution after the whole prompt
 * @param top1Prob          probability of the most likely next token after the whole prompt
 * @param vocabSize         the gatekeeper's vocabulary size (ln of it bounds surprisal of a uniform guess)
 */
public record Signals(int promptTokens, int promptChars, double meanSurprisal, double maxSurprisal, double stdSurprisal,
                      double lastKMeanSurprisal, double entropy, double top1Prob, int vocabSize) {

    /** Named values, in a fixed order, for --explain and JSON. */
    public Map<String, Double> asMap() {
        Map<String, Double> m = new LinkedHashMap<>();
        m.put("prompt_tokens", (double) promptTokens);
        m.put("prompt_chars", (double) promptChars);
        m.put("surprisal_mean", meanSurprisal);
        m.put("surprisal_max", maxSurprisal);
        m.put("surprisal_std", stdSurprisal);
        m.put("surprisal_last_k_mean", lastKMeanSurprisal);
        m.put("entropy_last", entropy);
        m.put("top1_prob_last", top1Prob);
        return m;
    }
}
