package dev.gearbox.calibrate;

import dev.gearbox.ladder.Ladder;
import dev.gearbox.ladder.LadderEngine;
import dev.gearbox.ladder.LadderResponse;
import dev.gearbox.ladder.Tier;
import dev.gearbox.model.Model;
import dev.gearbox.tokenizer.ChatTemplate;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.List;

/**
 * Every prompt answered by every tier on its own (forced tier, greedy, no escalation, the
 * ladder's max_answer_tokens), graded: the raw material of calibration, of the report's single-tier
 * points and of the demo's baselines. Answers come from the {@link AnswerCache} when it has them.
 *
 * @param answers [prompt][tier] the trimmed answer
 * @param flops   [prompt][tier] prefill + decode FLOPs of producing it
 * @param correct [prompt][tier] graded against the row's reference, else agreement with the largest tier
 */
public record TierAnswers(List<TaskRow> rows, List<String> tierNames, String[][] answers, double[][] flops, boolean[][] correct) {

    public static TierAnswers run(LadderEngine engine, List<TaskRow> rows, AnswerCache cache, PrintWriter progress, String what) throws IOException {
        Ladder ladder = engine.ladder();
        int n = rows.size(), k = ladder.tiers().size();
        String[][] answers = new String[n][k];
        double[][] flops = new double[n][k];
        for (Tier tier : ladder.tiers()) {
            ChatTemplate template = templateOf(tier.model());
            int cached = 0, step = Math.max(1, n / 10);
            long t0 = System.nanoTime();
            for (int i = 0; i < n; i++) {
                String prompt = rows.get(i).promptFor(template);
                AnswerCache.Entry e = cache.get(tier.model().file().path(), ladder.maxAnswerTokens(), prompt);
                if (e != null) {
                    cached++;
                } else {
                    LadderResponse r = engine.runTier(tier.name(), prompt);
                    int promptTokens = tier.model().tokenizer().encode(prompt, true, false).length;
                    e = new AnswerCache.Entry(r.text(), r.generationFlops(), promptTokens, r.tokens().length);
                    cache.put(tier.model().file().path(), ladder.maxAnswerTokens(), prompt, e);
                }
                answers[i][tier.index()] = e.answer();
                flops[i][tier.index()] = e.flops();
                if (progress != null && ((i + 1) % step == 0 || i + 1 == n)) {
                    progress.printf("%s: tier %s: %d/%d prompts (%d from cache, %.1f s)%n", what, tier.name(), i + 1, n, cached, (System.nanoTime() - t0) / 1e9);
                    progress.flush();
                }
            }
        }
        boolean[][] correct = new boolean[n][k];
        for (int i = 0; i < n; i++) {
            for (int t = 0; t < k; t++) correct[i][t] = Grader.correct(rows.get(i), answers[i][t], answers[i][k - 1]);
        }
        return new TierAnswers(List.copyOf(rows), ladder.tierNames(), answers, flops, correct);
    }

    /** The model's chat template when it has one we know, else null (plain prompts). */
    public static ChatTemplate templateOf(Model model) {
        String jinja = model.chatTemplate();
        if (jinja == null || jinja.isBlank()) return null;
        try {
            return ChatTemplate.detect(jinja);
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    /** Per tier, the share of prompts it answers right. */
    public double accuracy(int tier) {
        int c = 0;
        for (boolean[] row : correct) if (row[tier]) c++;
        return (double) c / correct.length;
    }

    /** Router training labels: the tier's answer is as good as the largest tier's (right, or the largest is wrong too). */
    public boolean[][] asGoodAsLargest() {
        int k = tierNames.size();
        boolean[][] l = new boolean[correct.length][k];
        for (int i = 0; i < correct.length; i++) {
            for (int t = 0; t < k; t++) l[i][t] = correct[i][t] || !correct[i][k - 1];
        }
        return l;
    }
}
