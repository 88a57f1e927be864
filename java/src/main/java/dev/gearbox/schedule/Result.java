package dev.gearbox.schedule;

import dev.gearbox.ladder.Hop;
import dev.gearbox.router.Decision;

import java.util.List;

/**
 * A finished request.
 *
 * @param text         the answer (stop string excluded, control tokens rendered as nothing, not trimmed)
 * @param tokens       the answer's token ids (every hop's tokens that made it into the answer; EOS not included)
 * @param usage        prompt and completion tokens
 * @param finishReason {@code "stop"} (end of generation or a stop string) or {@code "length"} (max tokens or a full context),
 *                     as OpenAI names them
 * @param tier         the tier that produced the final answer, or {@code "ensemble"}
 * @param decision     the routing decision (source {@code forced} for a named tier)
 * @param hops         each tier's turn; more than one when escalation moved the request up the ladder
 * @param timings      queue wait, time to first token, total
 */
public record Result(String text, int[] tokens, Usage usage, String finishReason, String tier, Decision decision,
                     List<Hop> hops, Timings timings) {
    public Result {
        hops = List.copyOf(hops);
    }
}
