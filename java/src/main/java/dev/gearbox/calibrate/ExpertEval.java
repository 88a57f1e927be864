package dev.gearbox.calibrate;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gearbox.ladder.Ladder;
import dev.gearbox.ladder.Tier;
import dev.gearbox.router.Router;
import dev.gearbox.schedule.LadderEngine;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code gearbox svf eval}: per tier with experts and per task of the workload, the held-out
 * accuracy of the tier without an expert ({@code base}), with that task's expert ({@code expert},
 * through the engine as {@code model: "tier:task"} is served) and with a few-shot mixture of the
 * tier's <em>other</em> experts ({@code mixture}: α by the cross-entropy method on examples of the
 * task from a separate file, so it measures adapting to a task without its own expert); and what
 * adaptation costs a request.
 */
public final class ExpertEval {
    /**
     * @param fewShot where mixture examples come from (null: no mixture column); never the evaluated rows
     * @param shots   examples per task for the mixture search
     */
    public record Options(Path ladder, Path data, Path fewShot, int shots, AnswerCache cache, PrintWriter progress) {}

    /** One tier × task: prompts, and accuracies as fractions (NaN where not measured). */
    public record Cell(int prompts, double base, double expert, double mixture, String mixtureWeights) {}

    /**
     * @param gatekeeperFlops      the first pass (the gatekeeper read that names the task), mean FLOPs per prompt
     * @param expertFlopsShare     per tier, FLOPs of its expert answers over its base answers on the same prompts, minus 1
     * @param tierFlops            per tier, mean FLOPs of a base answer (the unit the first pass is compared with)
     */
    public record Cost(double gatekeeperFlops, Map<String, Double> tierFlops, Map<String, Double> expertFlopsShare) {}

    public record Result(String ladder, String data, Map<String, Map<String, Cell>> tiers, Cost cost) {
        public String toJson() {
            ObjectMapper m = new ObjectMapper();
            ObjectNode o = m.createObjectNode();
            o.put("ladder", ladder).put("data", data);
            ObjectNode t = o.putObject("tiers");
            tiers.forEach((tier, tasks) -> {
                ObjectNode x = t.putObject(tier);
                tasks.forEach((task, c) -> {
                    ObjectNode y = x.putObject(task);
                    y.put("prompts", c.prompts());
                    num(y, "base", c.base());
                    num(y, "expert", c.expert());
                    num(y, "mixture", c.mixture());
                    if (c.mixtureWeights() != null) y.put("mixture_weights", c.mixtureWeights());
                });
            });
            ObjectNode c = o.putObject("cost");
            c.put("gatekeeper_flops_per_prompt", cost.gatekeeperFlops());
            ObjectNode tf = c.putObject("tier_flops_per_prompt");
            cost.tierFlops().forEach(tf::put);
            ObjectNode ef = c.putObject("expert_extra_flops_share");
            cost.expertFlopsShare().forEach(ef::put);
            try {
                return m.writerWithDefaultPrettyPrinter().writeValueAsString(o);
            } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                throw new IllegalStateException(e);
            }
        }

        public String toText() {
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "SVF experts of ladder '%s' on %s (held-out accuracy)%n%n", ladder, data));
            sb.append(String.format(Locale.ROOT, "%-6s %-8s %8s %8s %8s %8s%n", "tier", "task", "prompts", "base", "expert", "mixture"));
            tiers.forEach((tier, tasks) -> tasks.forEach((task, c) -> sb.append(String.format(Locale.ROOT, "%-6s %-8s %8d %8s %8s %8s%n",
                    tier, task, c.prompts(), pct(c.base()), pct(c.expert()), pct(c.mixture())))));
            sb.append(String.format(Locale.ROOT, "%nfirst pass (gatekeeper read, names the task): %.3g FLOPs a prompt", cost.gatekeeperFlops()));
            cost.tierFlops().forEach((tier, f) -> sb.append(String.format(Locale.ROOT, "; %.1f%% of a tier-%s answer", 100 * cost.gatekeeperFlops() / f, tier)));
            sb.append('\n');
            cost.expertFlopsShare().forEach((tier, s) -> sb.append(String.format(Locale.ROOT, "tier %s with its experts: %+.1f%% FLOPs against its base answers%n", tier, 100 * s)));
            return sb.toString();
        }
    }

    private ExpertEval() {}

    public static Result run(Options o) throws IOException {
        List<TaskRow> rows = Dataset.read(o.data());
        List<TaskRow> shotsFrom = o.fewShot() == null ? List.of() : Dataset.read(o.fewShot());
        try (Ladder ladder = Ladder.open(o.ladder());
             Router router = Router.forLadder(ladder, false);
             LadderEngine engine = LadderEngine.measuring(ladder, router)) {
            if (ladder.tiers().stream().allMatch(t -> t.experts().isEmpty())) {
                throw new IllegalArgumentException(o.ladder() + ": no tier has experts (experts: in the ladder file); nothing to evaluate");
            }
            int n = rows.size(), k = ladder.tiers().size();
            TierAnswers base = TierAnswers.run(engine, rows, o.cache(), o.progress(), "svf eval: base");
            ExpertAnswers experts = ExpertAnswers.run(engine, rows, o.cache(), o.progress(), "svf eval");
            String[] largest = new String[n];
            for (int i = 0; i < n; i++) largest[i] = base.answers()[i][k - 1];
            List<String> tasks = ExpertCalibration.tasksOf(rows);
            Map<String, List<Integer>> byTask = new LinkedHashMap<>();
            for (String t : tasks) byTask.put(t, new ArrayList<>());
            for (int i = 0; i < n; i++) if (rows.get(i).extra("task") != null) byTask.get(rows.get(i).extra("task")).add(i);

            Map<String, Map<String, Cell>> table = new LinkedHashMap<>();
            Map<String, Double> tierFlops = new LinkedHashMap<>(), extra = new LinkedHashMap<>();
            for (Tier tier : ladder.tiers()) {
                if (tier.experts().isEmpty()) continue;
                Map<String, Cell> cells = new LinkedHashMap<>();
                double baseFlops = 0, expertFlops = 0;
                for (String task : tasks) {
                    List<Integer> idx = byTask.get(task);
                    int right = 0;
                    for (int i : idx) if (base.correct()[i][tier.index()]) right++;
                    double b = idx.isEmpty() ? Double.NaN : (double) right / idx.size();
                    double e = Double.NaN;
                    String id = ExpertAnswers.modelId(tier.name(), task);
                    if (tier.experts().containsKey(task)) {
                        e = experts.accuracy(id, rows, idx, largest);
                        for (int i : idx) {
                            baseFlops += base.flops()[i][tier.index()];
                            expertFlops += experts.byModel().get(id)[i].flops();
                        }
                    }
                    double mix = Double.NaN;
                    String weights = null;
                    List<String> others = new ArrayList<>(tier.experts().keySet());
                    others.remove(task);
                    List<TaskRow> shots = shotsFrom.stream().filter(r -> task.equals(r.extra("task")) && r.hasReference()).limit(o.shots()).toList();
                    if (!others.isEmpty() && !shots.isEmpty() && !idx.isEmpty()) {
                        FewShotAdaptation.Found f = FewShotAdaptation.adapt(tier, others, task, shots, ladder.maxAnswerTokens(), FewShotAdaptation.DEFAULT_SEARCH);
                        List<TaskRow> eval = new ArrayList<>();
                        for (int i : idx) eval.add(rows.get(i));
                        mix = FewShotAdaptation.accuracy(tier, f.expert(), eval, ladder.maxAnswerTokens());
                        weights = f.describe();
                        say(o.progress(), "svf eval: %s mixture for %s: %s; held-out %.3f", tier.name(), task, weights, mix);
                    }
                    cells.put(task, new Cell(idx.size(), b, e, mix, weights));
                }
                table.put(tier.name(), cells);
                double all = 0;
                for (int i = 0; i < n; i++) all += base.flops()[i][tier.index()];
                tierFlops.put(tier.name(), all / n);
                if (baseFlops > 0) extra.put(tier.name(), expertFlops / baseFlops - 1);
            }
            double gk = 0;
            for (TaskRow r : rows) {
                var c = r.conversation();
                var in = c != null ? router.input(c) : new Router.Input(r.text(), null);
                gk += router.gatekeeper().features(in.text(), in.ids()).flops();
            }
            return new Result(ladder.name(), o.data().toString(), table, new Cost(gk / n, tierFlops, extra));
        }
    }

    private static void say(PrintWriter log, String format, Object... args) {
        if (log == null) return;
        log.printf(format + "%n", args);
        log.flush();
    }

    private static void num(ObjectNode x, String k, double v) {
        if (Double.isNaN(v)) x.putNull(k);
        else x.put(k, v);
    }

    private static String pct(double v) {
        return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.1f%%", 100 * v);
    }
}
