package dev.gearbox.schedule;

/** Token counts as OpenAI reports them: prompt tokens of the final tier, completion tokens of the answer. */
public record Usage(int promptTokens, int completionTokens) {
    public int totalTokens() { return promptTokens + completionTokens; }
}
