package dev.gearbox.router;

import java.util.List;
import java.util.Map;

/**
 * Where a prompt goes and why.
 *
 * @param choice          the chosen tier's name, or {@code "ensemble"}
 * @param tierIndex       the chosen tier's index (0 = smallest), -1 for the ensemble
 * @param tierNames       the ladder's tiers, smallest first
 * @param probabilities   per tier, P(its answer is as good as the largest tier's); the largest's is 1
 * @param thresholds      the thresholds used (tier name or "ensemble" to threshold)
 * @param signals         the gatekeeper's signals (null for a forced decision)
 * @param source          {@code "router.json"} (trained head), {@code "zero-shot"} or {@code "forced"}
 * @param reason          one line saying which rule picked the choice
 * @param nanos           time to decide: gatekeeper pass plus head
 * @param gatekeeperFlops FLOPs of the gatekeeper's pass (0 for a forced decision)
 */
public record Decision(String choice, int tierIndex, List<String> tierNames, double[] probabilities,
                       Map<String, Double> thresholds, Signals signals, String source, String reason,
                       long nanos, double gatekeeperFlops) {

    public static final String ENSEMBLE = "ensemble";

    public boolean ensemble() { return tierIndex < 0; }

    /** A decision made by the caller, not the router (no gatekeeper pass, so no cost). */
    public static Decision forced(List<String> tierNames, String choice) {
        int idx = choice.equals(ENSEMBLE) ? -1 : tierNames.indexOf(choice);
        if (idx < 0 && !choice.equals(ENSEMBLE)) throw new IllegalArgumentException("no tier named '" + choice + "' (tiers: " + String.join(", ", tierNames) + ")");
        return new Decision(choice, idx, List.copyOf(tierNames), new double[0], Map.of(), null, "forced", "forced by the caller", 0, 0);
    }
}
