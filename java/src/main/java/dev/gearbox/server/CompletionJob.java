package dev.gearbox.server;

import dev.gearbox.sample.SamplingParams;
import dev.gearbox.template.Conversation;

import java.util.List;

/**
 * One generation the server asks for.
 *
 * @param prompt    the text the model continues (chat messages already flattened)
 * @param model     {@code "auto"} (the gatekeeper routes) or a tier's name
 * @param maxTokens most answer tokens (at least 1)
 * @param sampling  null = greedy; else temperature/top-p/seed and the extra fields ({@link SamplingFields}) as the client asked
 * @param stop      strings that end the answer (not included in it)
 * @param topLogprobs -1 = no log-probabilities; 0 = each token's; n = also the n most likely tokens per step
 * @param chat      the conversation of a chat request (each tier renders it with its chat template), or null
 * @param grammar   what the answer must be a sentence of (response_format, grammar, a required tool call), or null
 * @param n         how many choices (independent answers to the same prompt)
 */
public record CompletionJob(String prompt, String model, int maxTokens, SamplingParams sampling, List<String> stop, int topLogprobs,
                            Conversation chat, dev.gearbox.constrain.Grammar grammar, int n) {
    public static final String AUTO = "auto";

    public CompletionJob {
        stop = stop == null ? List.of() : List.copyOf(stop);
    }

    public CompletionJob(String prompt, String model, int maxTokens, SamplingParams sampling, List<String> stop) {
        this(prompt, model, maxTokens, sampling, stop, -1, null, null, 1);
    }

    public boolean auto() { return AUTO.equals(model); }
}
