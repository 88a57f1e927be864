package dev.gearbox.server;

import dev.gearbox.sample.SamplingParams;

import java.util.List;

/**
 * One generation the server asks for.
 *
 * @param prompt    the text the model continues (chat messages already flattened)
 * @param model     {@code "auto"} (the gatekeeper routes) or a tier's name
 * @param maxTokens most answer tokens (at least 1)
 * @param sampling  null = greedy; else temperature/top-p/seed and the extra fields ({@link SamplingFields}) as the client asked
 * @param stop      strings that end the answer (not included in it)
 */
public record CompletionJob(String prompt, String model, int maxTokens, SamplingParams sampling, List<String> stop) {
    public static final String AUTO = "auto";

    public CompletionJob {
        stop = stop == null ? List.of() : List.copyOf(stop);
    }

    public boolean auto() { return AUTO.equals(model); }
}
