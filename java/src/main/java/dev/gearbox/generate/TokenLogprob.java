package dev.gearbox.generate;

import java.util.List;

/**
 * One answer token with its log-probability under the model's own distribution (log-softmax of
 * the raw logits, before temperature, penalties or any other sampling transform) and, when asked
 * for, the most likely alternatives at that step: what OpenAI's {@code logprobs} report.
 *
 * @param token   the token's text (its bytes as UTF-8; a token holding part of a character shows U+FFFD)
 * @param bytes   the token's bytes
 * @param logprob its log-probability
 * @param top     the {@code top_logprobs} most likely tokens at that step, most likely first (empty when not asked)
 */
public record TokenLogprob(int id, String token, byte[] bytes, float logprob, List<Alternative> top) {
    /** One of the most likely tokens at a step. */
    public record Alternative(int id, String token, byte[] bytes, float logprob) {}

    public TokenLogprob {
        top = List.copyOf(top);
    }
}
