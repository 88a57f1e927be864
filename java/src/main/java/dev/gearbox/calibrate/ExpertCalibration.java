package dev.gearbox.calibrate;

import dev.gearbox.ladder.Ladder;
import dev.gearbox.ladder.Tier;
import dev.gearbox.router.Decision;
import dev.gearbox.router.ExpertRouting;
import dev.gearbox.router.RouterHead;
import dev.gearbox.router.TaskHead;
import dev.gearbox.schedule.LadderEngine;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;

/**
 * Calibration of routing with SVF experts (Transformer²'s two passes joined with the ladder):
 * trains the {@link TaskHead} on the rows' {@code task} labels, answers every prompt with every
 * expert, and then trains a router head on what each tier answers <em>with the expert the task
 * head picks</em> (the base tier where it has none), against the largest tier without an expert.
 * Thresholds are chosen for the same target as the base router, on the same validation split;
 * the held-out split measures the result. Writes {@link ExpertRouting#FILE} beside the ladder.
 */
public final class ExpertCalibration {

    /**
     * What routing with experts reached on the held-out split.
     *
     * @param tasks              the task head's tasks
     * @param taskAccuracy       share of held-out prompts whose task the head names right
     * @param routed             routed quality and compute share (gatekeeper included) with experts
     * @param shares             per tier (then the ensemble) the share of prompts sent there
     * @param expertShare        share of prompts answered (first) with an expert
     * @param thresholds         the thresholds written
     * @param file               router-experts.json
     */
    public record Summary(List<String> tasks, double taskAccuracy, CurvePoint routed, double[] shares, double expertShare,
                   Map<String, Double> thresholds, Path file) {}

    private ExpertCalibration() {}

    /** True when the ladder has experts and the rows name at least two tasks: then there is something to calibrate. */
    static boolean applies(Ladder ladder, List<TaskRow> rows) {
        boolean experts = ladder.tiers().stream().anyMatch(t -> !t.experts().isEmpty());
        return experts && tasksOf(rows).size() >= 2;
    }

    static List<String> tasksOf(List<TaskRow> rows) {
        TreeSet<String> t = new TreeSet<>();
        for (TaskRow r : rows) if (r.extra("task") != null) t.add(r.extra("task"));
        return List.copyOf(t);
    }

    static Summary run(Calibrator.Options o, Ladder ladder, LadderEngine engine, List<TaskRow> rows, Splits splits,
                       double[][] x, List<String> featureNames, double[] gkFlops, TierAnswers base, PrintWriter log) throws IOException {
        int n = rows.size(), k = ladder.tiers().size();
        List<String> tasks = tasksOf(rows);
        for (Tier t : ladder.tiers()) {
            for (String task : t.experts().keySet()) {
                if (!tasks.contains(task)) {
                    throw new IllegalArgumentException(o.data() + ": tier '" + t.name() + "' has an expert for task '" + task
                            + "', but no row has \"task\": \"" + task + "\" (rows name " + tasks + "), so the task head cannot learn it");
                }
            }
        }
        // Pass 1: the task head, on the training rows that name a task.
        List<Integer> trainIdx = new ArrayList<>();
        for (int i : splits.train()) if (rows.get(i).extra("task") != null) trainIdx.add(i);
        double[][] tx = new double[trainIdx.size()][];
        int[] ty = new int[trainIdx.size()];
        for (int m = 0; m < tx.length; m++) {
            tx[m] = x[trainIdx.get(m)];
            ty[m] = tasks.indexOf(rows.get(trainIdx.get(m)).extra("task"));
        }
        TaskHead taskHead = TaskHead.train(featureNames, tasks, tx, ty, TaskHead.DEFAULT_L2);
        double minP = ExpertRouting.DEFAULT_MIN_TASK_PROBABILITY;
        String[] picked = new String[n];
        for (int i = 0; i < n; i++) {
            double[] p = taskHead.probabilities(x[i]);
            int best = TaskHead.argmax(p);
            picked[i] = p[best] >= minP ? tasks.get(best) : null;
        }
        say(log, "calibrate: task head on %d prompts (%s): %.1f%% of training prompts named right", tx.length, String.join(", ", tasks),
                100 * taskHead.trainingAccuracy());

        // Pass 2: every expert on every prompt, then what each tier answers with the picked expert.
        ExpertAnswers alone = ExpertAnswers.run(engine, rows, o.cache(), log, "calibrate");
        String[] largest = new String[n];
        for (int i = 0; i < n; i++) largest[i] = base.answers()[i][k - 1];
        boolean[][] correct = new boolean[n][k], routedCorrect = new boolean[n][k];
        double[][] cost = new double[n][k], routedCost = new double[n][k];
        int withExpert = 0;
        for (Tier t : ladder.tiers()) {
            int ti = t.index();
            List<Integer> escalating = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                String e = ExpertRouting.expertFor(picked[i], t.experts().keySet());
                if (e == null) {
                    correct[i][ti] = base.correct()[i][ti];
                    cost[i][ti] = base.flops()[i][ti];
                    routedCorrect[i][ti] = base.routedCorrect()[i][ti];
                    routedCost[i][ti] = base.routedFlops()[i][ti];
                    continue;
                }
                AnswerCache.Entry a = alone.byModel().get(ExpertAnswers.modelId(t.name(), e))[i];
                correct[i][ti] = Grader.correct(rows.get(i), a.answer(), largest[i]);
                cost[i][ti] = a.flops();
                routedCorrect[i][ti] = correct[i][ti];
                routedCost[i][ti] = cost[i][ti];
                if (ti < k - 1 && t.escalate() != null) escalating.add(i);
            }
            if (!escalating.isEmpty()) {
                List<TaskRow> sub = new ArrayList<>();
                String[] subTasks = new String[escalating.size()];
                for (int m = 0; m < escalating.size(); m++) {
                    sub.add(rows.get(escalating.get(m)));
                    subTasks[m] = picked[escalating.get(m)];
                }
                AnswerCache.Entry[] r = ExpertAnswers.routed(engine, o.cache(), sub, subTasks, t);
                for (int m = 0; m < r.length; m++) {
                    int i = escalating.get(m);
                    routedCorrect[i][ti] = Grader.correct(rows.get(i), r[m].answer(), largest[i]);
                    routedCost[i][ti] = r[m].flops();
                }
            }
        }
        boolean[][] labels = new boolean[n][k];
        for (int i = 0; i < n; i++) {
            for (int t = 0; t < k; t++) labels[i][t] = correct[i][t] || !base.correct()[i][k - 1];
        }
        RouterHead head = RouterHead.train(featureNames, ladder.tierNames(), Calibrator.pick(x, splits.train()),
                Calibrator.pick(labels, splits.train()), RouterHead.DEFAULT_L2);
        double[][] p = new double[n][];
        for (int i = 0; i < n; i++) p[i] = head.probabilities(x[i]);
        Outcomes all = new Outcomes(correct, cost, routedCorrect, routedCost, gkFlops, p, base.ensembleCorrect(), base.ensembleFlops());
        Outcomes validation = all.subset(splits.validation());
        ThresholdSearch.Choice choice = o.target().targetQuality() != null
                ? ThresholdSearch.forTargetQuality(validation, o.target().targetQuality())
                : ThresholdSearch.forBudget(validation, o.target().budget());
        Map<String, Double> thresholds = Calibrator.thresholdsOf(choice, ladder.tierNames(), all.hasEnsemble());
        ExpertRouting routing = new ExpertRouting(taskHead, head.withThresholds(thresholds), minP);
        Path file = ladder.dir().resolve(ExpertRouting.FILE);
        routing.save(file);

        Outcomes heldOut = all.subset(splits.heldOut());
        int right = 0, named = 0;
        for (int i : splits.heldOut()) {
            String truth = rows.get(i).extra("task");
            if (truth == null) continue;
            named++;
            if (truth.equals(tasks.get(TaskHead.argmax(taskHead.probabilities(x[i]))))) right++;
        }
        for (int m = 0; m < splits.heldOut().length; m++) {
            int i = splits.heldOut()[m];
            int d = heldOut.decide(m, choice.thresholds());
            if (d != Outcomes.ENSEMBLE && ExpertRouting.expertFor(picked[i], ladder.tier(d).experts().keySet()) != null) withExpert++;
        }
        CurvePoint routed = heldOut.routed(choice.thresholds());
        say(log, "calibrate: with experts: held-out %.1f%% at %.1f%% of the largest tier's compute (%s); wrote %s",
                100 * routed.quality(), 100 * routed.cost(), thresholds, file);
        return new Summary(tasks, named == 0 ? Double.NaN : (double) right / named, routed, heldOut.shares(choice.thresholds()),
                (double) withExpert / splits.heldOut().length, thresholds, file);
    }

    private static void say(PrintWriter log, String format, Object... args) {
        if (log == null) return;
        log.printf(format + "%n", args);
        log.flush();
    }
}
