package dev.gearbox.calibrate;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.util.List;
import java.util.Locale;

/**
 * What {@code gearbox demo} measured.
 *
 * @param tiers                  per routing target: share of prompts sent there and accuracy on them
 * @param routedAccuracy         accuracy of the routed answers (escalations and ensembles included)
 * @param largestAccuracy        accuracy of the largest tier answering everything
 * @param randomAccuracySameCost random routing's best expected accuracy at the routed compute share
 * @param computeShare           routed FLOPs (gatekeeper, prefill, decode, every hop) / always-largest FLOPs
 * @param gatekeeperShare        the gatekeeper's part of that share
 * @param gatekeeperP50Ms        median time of the gatekeeper pass plus decision, per prompt
 * @param escalations            prompts a watched tier handed up
 * @param answers                per prompt, in the data's order, the routed run's result (not part of the JSON)
 * @param experts                the same workload routed with SVF experts (router-experts.json), or null when the ladder has none
 */
public record DemoResult(String ladder, String data, int prompts, String router, List<TierLine> tiers,
                         double routedAccuracy, double largestAccuracy, double randomAccuracySameCost,
                         double computeShare, double gatekeeperShare, double gatekeeperP50Ms, double gatekeeperP99Ms, int escalations,
                         List<dev.gearbox.schedule.Result> answers, Experts experts) {

    /**
     * The workload routed with SVF experts: the task head picks each prompt's expert, the expert
     * router head its tier. Measured against the same always-largest baseline (no expert).
     *
     * @param expertShare share of prompts answered (first) with an expert
     * @param answers     per prompt, in the data's order, the routed run's result (not part of the JSON)
     */
    public record Experts(String router, List<TierLine> tiers, double routedAccuracy, double computeShare, double gatekeeperShare,
                          int escalations, double expertShare, List<dev.gearbox.schedule.Result> answers) {
        /** Issue #13's goal for routing with experts: at least 98% of always-largest's accuracy at most 35% of its compute. */
        public static final double QUALITY_GOAL = 0.98;
        public static final double COMPUTE_GOAL = 0.35;

        boolean met(double largestAccuracy) {
            return routedAccuracy >= QUALITY_GOAL * largestAccuracy && computeShare <= COMPUTE_GOAL;
        }
    }

    /**
     * {@code share} of prompts routed to {@code name} (by the router's decision; a prompt escalated
     * from there still counts there), their accuracy, and the tier alone on every prompt: its
     * accuracy and its compute as a share of always-largest (NaN for the ensemble).
     */
    public record TierLine(String name, double share, double accuracy, double accuracyAlone, double computeAlone) {}

    /** The goal: at least 95% of always-largest's accuracy. */
    public static final double QUALITY_GOAL = 0.95;
    /** The goal: at most half of always-largest's compute. */
    public static final double COMPUTE_GOAL = 0.5;

    public boolean qualityGoalMet() { return routedAccuracy >= QUALITY_GOAL * largestAccuracy; }

    public boolean computeGoalMet() { return computeShare <= COMPUTE_GOAL; }

    public boolean aboveRandom() { return routedAccuracy > randomAccuracySameCost; }

    public boolean goalMet() { return qualityGoalMet() && computeGoalMet() && aboveRandom(); }

    public String toJson() {
        ObjectMapper m = new ObjectMapper();
        ObjectNode o = m.createObjectNode();
        o.put("ladder", ladder).put("data", data).put("prompts", prompts).put("router", router);
        ArrayNode a = o.putArray("tiers");
        for (TierLine t : tiers) {
            ObjectNode x = a.addObject().put("name", t.name()).put("share", t.share());
            num(x, "accuracy", t.accuracy());
            num(x, "accuracy_alone", t.accuracyAlone());
            num(x, "compute_share_alone", t.computeAlone());
        }
        o.put("routed_accuracy", routedAccuracy).put("largest_accuracy", largestAccuracy);
        o.put("random_accuracy_same_cost", randomAccuracySameCost).put("compute_share", computeShare);
        o.put("gatekeeper_compute_share", gatekeeperShare).put("gatekeeper_p50_ms", gatekeeperP50Ms).put("gatekeeper_p99_ms", gatekeeperP99Ms);
        o.put("escalations", escalations);
        if (experts != null) {
            ObjectNode e = o.putObject("experts");
            e.put("router", experts.router());
            e.put("routed_accuracy", experts.routedAccuracy()).put("compute_share", experts.computeShare());
            e.put("gatekeeper_compute_share", experts.gatekeeperShare()).put("escalations", experts.escalations());
            e.put("expert_share", experts.expertShare());
            ObjectNode shares = e.putObject("tier_shares");
            for (TierLine t : experts.tiers()) shares.put(t.name(), t.share());
            ArrayNode et = e.putArray("tiers");
            for (TierLine t : experts.tiers()) {
                ObjectNode x = et.addObject().put("name", t.name()).put("share", t.share());
                num(x, "accuracy", t.accuracy());
            }
            e.putObject("goal").put("quality_ratio", largestAccuracy == 0 ? 0 : experts.routedAccuracy() / largestAccuracy)
                    .put("quality_goal", Experts.QUALITY_GOAL).put("compute_goal", Experts.COMPUTE_GOAL).put("met", experts.met(largestAccuracy));
        }
        ObjectNode g = o.putObject("goal");
        g.put("quality_ratio", largestAccuracy == 0 ? 0 : routedAccuracy / largestAccuracy).put("quality_met", qualityGoalMet())
                .put("compute_met", computeGoalMet()).put("above_random", aboveRandom()).put("met", goalMet());
        try {
            return m.writerWithDefaultPrettyPrinter().writeValueAsString(o);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** JSON has no NaN: an accuracy over no prompts is null. */
    private static void num(ObjectNode x, String k, double v) {
        if (Double.isNaN(v)) x.putNull(k);
        else x.put(k, v);
    }

    public String toText() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format(Locale.ROOT, "Ladder '%s', %d held-out prompts from %s, router: %s%n%n", ladder, prompts, data, router));
        sb.append(String.format(Locale.ROOT, "%-10s %8s %10s   %s%n", "tier", "share", "accuracy", "(alone: accuracy, compute)"));
        for (TierLine t : tiers) {
            sb.append(String.format(Locale.ROOT, "%-10s %7.1f%% %10s   %s%n", t.name(), 100 * t.share(), pct(t.accuracy()),
                    Double.isNaN(t.accuracyAlone()) ? "" : "(" + pct(t.accuracyAlone()) + ", " + pct(t.computeAlone()) + ")"));
        }
        sb.append('\n');
        sb.append(String.format(Locale.ROOT, "routed accuracy            %s%n", pct(routedAccuracy)));
        sb.append(String.format(Locale.ROOT, "always-largest accuracy    %s%n", pct(largestAccuracy)));
        sb.append(String.format(Locale.ROOT, "random routing, same cost  %s%n", pct(randomAccuracySameCost)));
        sb.append(String.format(Locale.ROOT, "compute vs always-largest  %.1f%% (gatekeeper %.1f%%, %d escalations)%n", 100 * computeShare, 100 * gatekeeperShare, escalations));
        sb.append(String.format(Locale.ROOT, "gatekeeper overhead        p50 %.2f ms, p99 %.2f ms per prompt%n%n", gatekeeperP50Ms, gatekeeperP99Ms));
        sb.append(String.format(Locale.ROOT, "goal (routed >= 95%% of largest, compute <= 50%%, above random): %s%n", goalMet() ? "MET" : "NOT MET"));
        sb.append(String.format(Locale.ROOT, "  quality %.1f%% of largest (%s), compute %.1f%% (%s), %s random%n",
                largestAccuracy == 0 ? 0 : 100 * routedAccuracy / largestAccuracy, qualityGoalMet() ? "ok" : "short",
                100 * computeShare, computeGoalMet() ? "ok" : "over", aboveRandom() ? "above" : "not above"));
        if (experts != null) {
            sb.append(String.format(Locale.ROOT, "%nWith SVF experts (router: %s; %.1f%% of prompts answered with an expert)%n", experts.router(), 100 * experts.expertShare()));
            for (TierLine t : experts.tiers()) {
                sb.append(String.format(Locale.ROOT, "%-10s %7.1f%% %10s%n", t.name(), 100 * t.share(), pct(t.accuracy())));
            }
            sb.append(String.format(Locale.ROOT, "routed accuracy            %s (%.1f%% of largest)%n", pct(experts.routedAccuracy()),
                    largestAccuracy == 0 ? 0 : 100 * experts.routedAccuracy() / largestAccuracy));
            sb.append(String.format(Locale.ROOT, "compute vs always-largest  %.1f%% (gatekeeper %.1f%%, %d escalations)%n", 100 * experts.computeShare(),
                    100 * experts.gatekeeperShare(), experts.escalations()));
            sb.append(String.format(Locale.ROOT, "goal with experts (>= 98%% of largest at <= 35%% compute): %s%n", experts.met(largestAccuracy) ? "MET" : "NOT MET"));
        }
        return sb.toString();
    }

    private static String pct(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * v);
    }
}
