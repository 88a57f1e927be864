package dev.gearbox.server;

import dev.gearbox.ladder.Hop;
import dev.gearbox.router.Decision;

import java.util.List;

/**
 * How a completion ended.
 *
 * @param finishReason     OpenAI's: {@code stop} (end of generation or a stop string), {@code length} (max_tokens or context)
 * @param promptTokens     prompt tokens of the final tier (BOS included)
 * @param completionTokens answer tokens generated
 * @param finalTier        the tier that produced the final answer
 * @param decision         the routing decision (source {@code forced} for a named tier)
 * @param hops             every tier's turn, in order
 */
public record Outcome(String finishReason, int promptTokens, int completionTokens, String finalTier, Decision decision, List<Hop> hops) {
    public Outcome {
        hops = List.copyOf(hops);
    }
}
