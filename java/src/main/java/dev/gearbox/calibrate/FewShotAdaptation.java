package dev.gearbox.calibrate;

import dev.gearbox.generate.Generator;
import dev.gearbox.ladder.Tier;
import dev.gearbox.model.Adaptation;
import dev.gearbox.model.Model;
import dev.gearbox.model.Sequence;
import dev.gearbox.sample.SamplingParams;
import dev.gearbox.svf.CrossEntropySearch;
import dev.gearbox.svf.ExpertMixture;
import dev.gearbox.svf.SvfExpert;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Transformer²'s few-shot adaptation to a task no expert was trained for: mixture weights α over
 * a tier's experts (z' = Σ αₖ zₖ), found by the {@link CrossEntropySearch} on a handful of
 * examples with references, scored by exact-match accuracy of the greedy answers (the ladder's
 * decode policy through {@link Generator}). What {@code gearbox svf adapt} runs and
 * {@code svf eval}'s "mixture" column measures.
 */
public final class FewShotAdaptation {
    /** The search {@code svf adapt} runs by default: 12 candidates a round, the best 3 refit, 6 rounds. */
    public static final CrossEntropySearch DEFAULT_SEARCH = new CrossEntropySearch(12, 3, 6, 0.3, 0.02, 1234);

    /**
     * @param expert      the mixture as an expert of the tier's model (write it with {@link SvfExpert#write})
     * @param experts     the tier's experts mixed, in α's order
     * @param alpha       the weights found
     * @param score       their accuracy on the examples
     * @param evaluations candidates scored
     */
    public record Found(SvfExpert expert, List<String> experts, double[] alpha, double score, int evaluations, int examples) {
        public String describe() {
            StringBuilder sb = new StringBuilder("cross-entropy method over experts (");
            for (int k = 0; k < experts.size(); k++) {
                if (k > 0) sb.append(", ");
                sb.append(experts.get(k)).append(String.format(Locale.ROOT, " %.3f", alpha[k]));
            }
            return sb.append(String.format(Locale.ROOT, ") on %d examples: %.3f exact-match, %d candidates", examples, score, evaluations)).toString();
        }
    }

    private FewShotAdaptation() {}

    /** Finds α for {@code task} on {@code examples} (each with a reference) over every expert of {@code tier}. */
    public static Found adapt(Tier tier, String task, List<TaskRow> examples, int maxTokens, CrossEntropySearch search) {
        return adapt(tier, List.copyOf(tier.experts().keySet()), task, examples, maxTokens, search);
    }

    /** {@link #adapt(Tier, String, List, int, CrossEntropySearch)} over the tier's experts {@code names} only. */
    public static Found adapt(Tier tier, List<String> names, String task, List<TaskRow> examples, int maxTokens, CrossEntropySearch search) {
        if (names.isEmpty()) throw new IllegalArgumentException("tier '" + tier.name() + "' has no experts to mix (add experts: to the ladder)");
        for (String n : names) {
            if (!tier.experts().containsKey(n)) throw new IllegalArgumentException("tier '" + tier.name() + "' has no expert '" + n + "' (experts: " + tier.experts().keySet() + ")");
        }
        if (examples.isEmpty()) throw new IllegalArgumentException("few-shot adaptation needs at least one example");
        for (TaskRow r : examples) {
            if (!r.hasReference()) throw new IllegalArgumentException("example " + r.id() + " has no reference answer to score against");
        }
        List<SvfExpert> experts = new ArrayList<>();
        for (String n : names) experts.add(tier.experts().get(n));
        double[] start = new double[names.size()];
        Arrays.fill(start, 1.0 / names.size());
        CrossEntropySearch.Found f = search.maximise(start, a -> accuracy(tier, ExpertMixture.mix(experts, a, task, ""), examples, maxTokens));
        Found partial = new Found(null, names, f.best(), f.score(), f.evaluations(), examples.size());
        SvfExpert mixed = ExpertMixture.mix(experts, f.best(), task, partial.describe());
        return new Found(mixed, names, f.best(), f.score(), f.evaluations(), examples.size());
    }

    /** Share of {@code rows} that {@code tier} answers right with {@code expert} (greedy, at most {@code maxTokens}). */
    public static double accuracy(Tier tier, SvfExpert expert, List<TaskRow> rows, int maxTokens) {
        Adaptation a = tier.adaptation(expert).adaptation();
        int right = 0;
        for (TaskRow r : rows) if (Grader.correct(r, answer(tier, a, r, maxTokens), null)) right++;
        return rows.isEmpty() ? Double.NaN : (double) right / rows.size();
    }

    /** One greedy answer of {@code tier} with adaptation {@code a} to a plain prompt row, trimmed. */
    static String answer(Tier tier, Adaptation a, TaskRow row, int maxTokens) {
        if (row.conversation() != null) throw new IllegalArgumentException("row " + row.id() + ": few-shot adaptation takes plain prompts, not chat rows");
        Model m = tier.model();
        int[] prompt = m.tokenizer().encode(row.text(), true, false);
        try (Sequence s = m.newSequence(Math.min(tier.context(), prompt.length + maxTokens + 1))) {
            s.adapt(a);
            return new Generator(m.tokenizer()).generate(dev.gearbox.generate.LogitSource.of(s), prompt, SamplingParams.greedy().toBuilder().maxTokens(maxTokens).build(), t -> { })
                    .text().trim();
        }
    }
}
