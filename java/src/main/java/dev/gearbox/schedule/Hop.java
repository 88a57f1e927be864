package dev.gearbox.schedule;

/**
 * One tier's turn at answering a request.
 *
 * @param tier            the tier's name ("ensemble" for an ensemble turn)
 * @param startTokens     answer tokens it started from (kept from the tier below; 0 for a fresh start)
 * @param tokensGenerated answer tokens it generated itself
 * @param reason          why its turn ended: {@code eos}, {@code max_tokens}, {@code context}, or {@code escalate: ...}
 * @param flops           FLOPs of its prefill and decode (from the shape)
 * @param cost            the same in the ladder's cost unit ({@code cost_per_token} where set, else FLOPs)
 * @param nanos           wall time of its turn
 */
public record Hop(String tier, int startTokens, int tokensGenerated, String reason, double flops, double cost, long nanos) {
    public boolean escalated() { return reason.startsWith("escalate"); }
}
