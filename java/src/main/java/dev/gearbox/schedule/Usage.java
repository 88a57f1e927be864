package dev.gearbox.schedule;

/**
 * Token counts as OpenAI reports them: prompt tokens of the final tier, completion tokens of the
 * answer, and how many of the prompt tokens came from the tier's prefix cache instead of a prefill.
 */
public record Usage(int promptTokens, int completionTokens, int cachedTokens) {
    public Usage(int promptTokens, int completionTokens) {
        this(promptTokens, completionTokens, 0);
    }

    public int totalTokens() { return promptTokens + completionTokens; }
}
