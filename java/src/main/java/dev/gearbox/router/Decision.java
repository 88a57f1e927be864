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
 * @param expert          the SVF expert's task to answer with (e.g. {@code add}), or null for the base weights;
 *                        the scheduler applies it on the chosen tier when that tier has it, and on a tier an
 *                        escalation reaches only when that tier has the same task's expert
 * @param taskProbabilities per task, P(the prompt is that task), from a task head; empty when none ran
 */
public record Decision(String choice, int tierIndex, List<String> tierNames, double[] probabilities,
                       Map<String, Double> thresholds, Signals signals, String source, String reason,
                       long nanos, double gatekeeperFlops, String expert, Map<String, Double> taskProbabilities) {

    public static final String ENSEMBLE = "ensemble";

    public Decision {
        taskProbabilities = taskProbabilities == null ? Map.of() : Map.copyOf(taskProbabilities);
    }

    /** A decision without an expert or task probabilities. */
    public Decision(String choice, int tierIndex, List<String> tierNames, double[] probabilities,
                    Map<String, Double> thresholds, Signals signals, String source, String reason,
                    long nanos, double gatekeeperFlops) {
        this(choice, tierIndex, tierNames, probabilities, thresholds, signals, source, reason, nanos, gatekeeperFlops, null, Map.of());
    }

    /** This decision answering with {@code task}'s expert (null: none), the task probabilities kept. */
    public Decision withExpert(String task) {
        return new Decision(choice, tierIndex, tierNames, probabilities, thresholds, signals, source, reason, nanos, gatekeeperFlops, task, taskProbabilities);
    }

    public boolean ensemble() { return tierIndex < 0; }

    /** A decision made by the caller, not the router (no gatekeeper pass, so no cost). */
    public static Decision forced(List<String> tierNames, String choice) {
        int idx = choice.equals(ENSEMBLE) ? -1 : tierNames.indexOf(choice);
        if (idx < 0 && !choice.equals(ENSEMBLE)) throw new IllegalArgumentException("no tier named '" + choice + "' (tiers: " + String.join(", ", tierNames) + ")");
        return new Decision(choice, idx, List.copyOf(tierNames), new double[0], Map.of(), null, "forced", "forced by the caller", 0, 0);
    }
}
