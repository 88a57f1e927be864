package dev.gearbox.ladder;

import dev.gearbox.router.Decision;

import java.util.List;

/**
 * The answer to one request and what it took.
 *
 * @param text            the answer, trimmed (end-of-generation token not included)
 * @param tokens          the answer's tokens in the final tier's vocabulary
 * @param logprobs        per answer token, its log-probability under the model (or combined ensemble) that chose it
 * @param finalTier       the tier (or "ensemble") that produced the final answer
 * @param decision        the routing decision ({@code source = "forced"} for a tier the caller chose)
 * @param hops            every tier's turn, in order (one entry without escalation)
 * @param ensembleMembers the tiers that answered together, empty unless the ensemble ran
 * @param flops           everything, from the shapes: gatekeeper pass plus every hop
 * @param cost            the same in the ladder's cost unit
 * @param nanos           wall time: decision plus generation
 */
public record LadderResponse(String text, int[] tokens, float[] logprobs, String finalTier, Decision decision, List<Hop> hops,
                             List<String> ensembleMembers, double flops, double cost, long nanos) {
    public LadderResponse {
        hops = List.copyOf(hops);
        ensembleMembers = List.copyOf(ensembleMembers);
    }

    /** True when some tier handed the request up. */
    public boolean escalated() {
        return hops.stream().anyMatch(Hop::escalated);
    }

    /** FLOPs of generation alone (all hops), without the gatekeeper. */
    public double generationFlops() {
        return hops.stream().mapToDouble(Hop::flops).sum();
    }
}
