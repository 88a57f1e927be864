package dev.gearbox.calibrate;

import dev.gearbox.ladder.Ladder;
import dev.gearbox.ladder.Tier;
import dev.gearbox.schedule.LadderEngine;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every prompt answered by every SVF expert of every tier on its own ({@code tier:task} forced,
 * greedy, no escalation), through the engine as the server answers {@code model: "m:add"}: what
 * {@code svf eval} tabulates and what calibration with experts starts from. Answers come from the
 * {@link AnswerCache} when it has them (keyed by the model's and the expert file's contents).
 *
 * @param byModel "tier:task" → per prompt, the answer and its FLOPs
 */
public record ExpertAnswers(Map<String, AnswerCache.Entry[]> byModel) {

    /** The model id that runs {@code tier} with its expert for {@code task}. */
    public static String modelId(String tier, String task) {
        return tier + ":" + task;
    }

    public static ExpertAnswers run(LadderEngine engine, List<TaskRow> rows, AnswerCache cache, PrintWriter progress, String what) throws IOException {
        Map<String, AnswerCache.Entry[]> out = new LinkedHashMap<>();
        for (Tier tier : engine.ladder().tiers()) {
            for (String task : tier.experts().keySet()) {
                int hits0 = cache.hits();
                long t0 = System.nanoTime();
                Progress bar = new Progress(progress);
                String id = modelId(tier.name(), task);
                out.put(id, TierAnswers.answerAll(engine, cache, rows, tier, List.of(tier.model().file().path(), expertFile(tier, task)),
                        variant(tier, task), id, false));
                bar.step(rows.size(), rows.size(), "%s: %s: %d/%d prompts (%d from cache, %.1f s)", what, id, rows.size(), rows.size(),
                        cache.hits() - hits0, (System.nanoTime() - t0) / 1e9);
            }
        }
        return new ExpertAnswers(out);
    }

    /**
     * Prompts {@code rows} each started on {@code tier} with its expert for the prompt's task
     * ({@code tasks[i]}, which the tier has) and escalation on, as a prompt routed to that
     * (tier, expert) runs; grouped by task so that each group is one batch through the engine.
     */
    static AnswerCache.Entry[] routed(LadderEngine engine, AnswerCache cache, List<TaskRow> rows, String[] tasks, Tier tier) throws IOException {
        Ladder ladder = engine.ladder();
        AnswerCache.Entry[] out = new AnswerCache.Entry[rows.size()];
        Map<String, List<Integer>> groups = new LinkedHashMap<>();
        for (int i = 0; i < rows.size(); i++) groups.computeIfAbsent(tasks[i], t -> new ArrayList<>()).add(i);
        for (var g : groups.entrySet()) {
            String task = g.getKey();
            List<Path> chain = new ArrayList<>();
            StringBuilder v = new StringBuilder("escalate-expert|").append(task);
            for (int j = tier.index(); j < ladder.tiers().size(); j++) {
                Tier t = ladder.tier(j);
                chain.add(t.model().file().path());
                if (t.experts().containsKey(task)) chain.add(expertFile(t, task));
                v.append('|').append(t.escalate()).append('|').append(variant(t, task));
            }
            List<TaskRow> sub = new ArrayList<>();
            for (int i : g.getValue()) sub.add(rows.get(i));
            AnswerCache.Entry[] e = TierAnswers.answerAll(engine, cache, sub, tier, chain, v.toString(), modelId(tier.name(), task), true);
            for (int m = 0; m < e.length; m++) out[g.getValue().get(m)] = e[m];
        }
        return out;
    }

    private static Path expertFile(Tier tier, String task) {
        Path f = tier.experts().get(task).file();
        if (f == null) throw new IllegalStateException("tier '" + tier.name() + "' expert '" + task + "' has no file");
        return f;
    }

    /** What else than the files an expert's answer depends on: how the tier applies experts. */
    static String variant(Tier tier, String task) {
        var serving = tier.config().expertServing();
        // The low-rank form's answers depend on its rank; the exact form's on nothing else.
        return "expert|" + task + "|" + serving.form() + (serving.form().equals("low_rank") ? "|" + serving.rank() : "");
    }

    /** Share of {@code idx}'s prompts that {@code model} answers right. */
    public double accuracy(String model, List<TaskRow> rows, List<Integer> idx, String[] largestAnswers) {
        AnswerCache.Entry[] e = byModel.get(model);
        if (idx.isEmpty()) return Double.NaN;
        int right = 0;
        for (int i : idx) if (Grader.correct(rows.get(i), e[i].answer(), largestAnswers[i])) right++;
        return (double) right / idx.size();
    }
}
