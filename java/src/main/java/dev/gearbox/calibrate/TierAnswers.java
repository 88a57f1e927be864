package dev.gearbox.calibrate;

import dev.gearbox.ladder.Ladder;
import dev.gearbox.ladder.Tier;
import dev.gearbox.router.Decision;
import dev.gearbox.schedule.LadderEngine;
import dev.gearbox.schedule.Result;
import dev.gearbox.schedule.Request;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Every prompt answered by every tier on its own (forced tier, greedy, no escalation, the
 * ladder's max_answer_tokens), graded: the raw material of calibration, of the report's single-tier
 * points and of the demo's baselines. Answers come from the {@link AnswerCache} when it has them.
 *
 * <p>When a tier is watched for escalation, a second set of answers starts each prompt there with
 * escalation on, as a routed prompt would run ({@code routed*}; equal to the single-tier ones for
 * tiers that cannot escalate), so thresholds are chosen for what routing really does.
 *
 * @param answers       [prompt][tier] the tier's answer alone (trimmed)
 * @param flops         [prompt][tier] prefill + decode FLOPs of producing it
 * @param correct       [prompt][tier] graded against the row's reference, else agreement with the largest tier
 * @param routedAnswers [prompt][tier] the answer when routed to the tier (escalation as configured)
 * @param routedFlops   [prompt][tier] FLOPs of that, every hop counted (no gatekeeper)
 * @param routedCorrect [prompt][tier] its grade
 * @param ensembleAnswers [prompt] the ladder's ensemble's answer, or null (no ensemble, or not asked for)
 * @param ensembleFlops   [prompt] FLOPs of that (all members), or null
 * @param ensembleCorrect [prompt] its grade, or null
 */
public record TierAnswers(List<TaskRow> rows, List<String> tierNames, String[][] answers, double[][] flops, boolean[][] correct,
                          String[][] routedAnswers, double[][] routedFlops, boolean[][] routedCorrect, int escalations,
                          String[] ensembleAnswers, double[] ensembleFlops, boolean[] ensembleCorrect) {

    public static TierAnswers run(LadderEngine engine, List<TaskRow> rows, AnswerCache cache, PrintWriter progress, String what) throws IOException {
        return run(engine, rows, cache, progress, what, false);
    }

    /**
     * {@code withEscalation}: also compute the routed answers of tiers that escalate, and the
     * ensemble's answers when the ladder has one (calibration needs them, the demo does not).
     */
    public static TierAnswers run(LadderEngine engine, List<TaskRow> rows, AnswerCache cache, PrintWriter progress, String what,
                                  boolean withEscalation) throws IOException {
        Ladder ladder = engine.ladder();
        int n = rows.size(), k = ladder.tiers().size();
        String[][] answers = new String[n][k];
        double[][] flops = new double[n][k];
        for (Tier tier : ladder.tiers()) {
            int hits0 = cache.hits();
            long t0 = System.nanoTime();
            Progress bar = new Progress(progress);
            AnswerCache.Entry[] entries = answerAll(engine, cache, rows, tier, List.of(tier.model().file().path()), "", tier.name(), false);
            for (int i = 0; i < n; i++) {
                answers[i][tier.index()] = entries[i].answer();
                flops[i][tier.index()] = entries[i].flops();
            }
            bar.step(n, n, "%s: tier %s: %d/%d prompts (%d from cache, %.1f s)", what, tier.name(), n, n, cache.hits() - hits0, (System.nanoTime() - t0) / 1e9);
        }

        String[][] routedAnswers = new String[n][];
        double[][] routedFlops = new double[n][];
        for (int i = 0; i < n; i++) {
            routedAnswers[i] = answers[i].clone();
            routedFlops[i] = flops[i].clone();
        }
        int escalations = 0;
        for (Tier tier : withEscalation ? ladder.tiers() : List.<Tier>of()) {
            if (tier.index() == k - 1 || tier.escalate() == null) continue;
            List<Path> chain = new ArrayList<>();
            StringBuilder variant = new StringBuilder("escalate");
            for (int j = tier.index(); j < k; j++) {
                Tier t = ladder.tier(j);
                chain.add(t.model().file().path());
                variant.append('|').append(t.escalate());
            }
            int hits0 = cache.hits();
            long t0 = System.nanoTime();
            Progress bar = new Progress(progress);
            // Started on this tier with escalation on: what a prompt routed here really gets.
            AnswerCache.Entry[] entries = answerAll(engine, cache, rows, tier, chain, variant.toString(), tier.name(), true);
            for (int i = 0; i < n; i++) {
                if (entries[i].hops() > 1) escalations++;
                routedAnswers[i][tier.index()] = entries[i].answer();
                routedFlops[i][tier.index()] = entries[i].flops();
            }
            bar.step(n, n, "%s: tier %s with escalation: %d/%d prompts (%d from cache, %.1f s)", what, tier.name(), n, n, cache.hits() - hits0, (System.nanoTime() - t0) / 1e9);
        }

        String[] ensembleAnswers = null;
        double[] ensembleFlops = null;
        var ens = ladder.ensemble();
        if (withEscalation && ens != null) {
            ensembleAnswers = new String[n];
            ensembleFlops = new double[n];
            List<Path> members = new ArrayList<>();
            for (String m : ens.tiers()) members.add(ladder.tier(m).model().file().path());
            String variant = "ensemble|" + ens.tiers() + "|" + ens.weights();
            int hits0 = cache.hits();
            long t0 = System.nanoTime();
            Progress bar = new Progress(progress);
            AnswerCache.Entry[] entries = answerAll(engine, cache, rows, ladder.tier(ens.tiers().getFirst()), members, variant, Decision.ENSEMBLE, true);
            for (int i = 0; i < n; i++) {
                ensembleAnswers[i] = entries[i].answer();
                ensembleFlops[i] = entries[i].flops();
            }
            bar.step(n, n, "%s: ensemble %s: %d/%d prompts (%d from cache, %.1f s)", what, String.join("+", ens.tiers()), n, n, cache.hits() - hits0, (System.nanoTime() - t0) / 1e9);
        }

        boolean[][] correct = new boolean[n][k], routedCorrect = new boolean[n][k];
        boolean[] ensembleCorrect = ensembleAnswers == null ? null : new boolean[n];
        for (int i = 0; i < n; i++) {
            for (int t = 0; t < k; t++) {
                correct[i][t] = Grader.correct(rows.get(i), answers[i][t], answers[i][k - 1]);
                routedCorrect[i][t] = Grader.correct(rows.get(i), routedAnswers[i][t], answers[i][k - 1]);
            }
            if (ensembleCorrect != null) ensembleCorrect[i] = Grader.correct(rows.get(i), ensembleAnswers[i], answers[i][k - 1]);
        }
        return new TierAnswers(List.copyOf(rows), ladder.tierNames(), answers, flops, correct, routedAnswers, routedFlops, routedCorrect, escalations,
                ensembleAnswers, ensembleFlops, ensembleCorrect);
    }

    /**
     * Every prompt answered on {@code choice} (a tier or the ensemble, forced; escalation as asked):
     * from the cache where it has the answer, else through the engine, all missing prompts in
     * flight at once so the tiers batch them; new answers go into the cache.
     */
    static AnswerCache.Entry[] answerAll(LadderEngine engine, AnswerCache cache, List<TaskRow> rows, Tier first, List<Path> files,
                                                 String variant, String choice, boolean escalate) throws IOException {
        Ladder ladder = engine.ladder();
        int max = ladder.maxAnswerTokens();
        String[] prompts = new String[rows.size()];
        AnswerCache.Entry[] entries = new AnswerCache.Entry[prompts.length];
        List<Integer> missing = new ArrayList<>();
        List<Request> requests = new ArrayList<>();
        for (int i = 0; i < prompts.length; i++) {
            prompts[i] = rows.get(i).promptFor(first);   // the text the first tier reads: what the answer is cached under
            entries[i] = cache.get(files, variant, max, prompts[i]);
            if (entries[i] == null) {
                missing.add(i);
                requests.add(rows.get(i).request(choice, null));
            }
        }
        // "m:add" is tier m with its expert for add, as the server names it.
        int colon = choice.indexOf(':');
        Decision forced = colon < 0 ? Decision.forced(ladder.tierNames(), choice)
                : Decision.forced(ladder.tierNames(), choice.substring(0, colon)).withExpert(choice.substring(colon + 1));
        List<Result> results = engine.executeAllRequests(requests, java.util.Collections.nCopies(missing.size(), forced),
                LadderEngine.Options.defaults(ladder).withEscalate(escalate));
        for (int m = 0; m < missing.size(); m++) {
            int i = missing.get(m);
            Result r = results.get(m);
            entries[i] = new AnswerCache.Entry(r.text().trim(), r.flops(), r.usage().promptTokens(), r.tokens().length, r.hops().size());
            cache.put(files, variant, max, prompts[i], entries[i]);
        }
        return entries;
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
