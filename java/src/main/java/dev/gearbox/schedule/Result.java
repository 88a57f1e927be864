package dev.gearbox.schedule;

import dev.gearbox.schedule.Hop;
import dev.gearbox.generate.TokenLogprob;
import dev.gearbox.router.Decision;

import java.util.List;

/**
 * A finished request.
 *
 * @param text         the answer (stop string excluded, control tokens rendered as nothing, not trimmed)
 * @param tokens       the answer's token ids (every hop's tokens that made it into the answer; EOS not included)
 * @param logprobs     per answer token, its log-probability under the model (or combined ensemble) that chose it
 * @param usage        prompt and completion tokens
 * @param finishReason {@code "stop"} (end of generation or a stop string) or {@code "length"} (max tokens or a full context),
 *                     as OpenAI names them
 * @param tier         the tier that produced the final answer, or {@code "ensemble"}
 * @param decision     the routing decision (source {@code forced} for a named tier)
 * @param hops         each tier's turn; more than one when escalation moved the request up the ladder
 * @param timings      queue wait, time to first token, total
 * @param tokenLogprobs per answer token its log-probability and the most likely alternatives, when the request asked
 *                     ({@link Request#withLogprobs}); else null
 * @param expert       the SVF expert's task the final answer ran with on {@code tier}, or null for the base weights
 */
public record Result(String text, int[] tokens, float[] logprobs, Usage usage, String finishReason, String tier, Decision decision,
                     List<Hop> hops, Timings timings, List<TokenLogprob> tokenLogprobs, String expert) {
    public Result {
        hops = List.copyOf(hops);
        tokenLogprobs = tokenLogprobs == null ? null : List.copyOf(tokenLogprobs);
    }

    /** A result answered with the base weights. */
    public Result(String text, int[] tokens, float[] logprobs, Usage usage, String finishReason, String tier, Decision decision,
                  List<Hop> hops, Timings timings, List<TokenLogprob> tokenLogprobs) {
        this(text, tokens, logprobs, usage, finishReason, tier, decision, hops, timings, tokenLogprobs, null);
    }

    /** True when some tier handed the request up. */
    public boolean escalated() {
        return hops.stream().anyMatch(Hop::escalated);
    }

    /** FLOPs of everything, from the shapes: the gatekeeper's pass plus every hop's prefill and decode. */
    public double flops() {
        return decision.gatekeeperFlops() + generationFlops();
    }

    /** FLOPs of generation alone (all hops), without the gatekeeper. */
    public double generationFlops() {
        return hops.stream().mapToDouble(Hop::flops).sum();
    }

    /** {@link #flops()} in the ladder's cost unit. */
    public double cost() {
        return decision.gatekeeperFlops() + hops.stream().mapToDouble(Hop::cost).sum();
    }
}
