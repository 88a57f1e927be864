package dev.gearbox.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gearbox.api.RoutingJson;
import dev.gearbox.ladder.Ladder;
import dev.gearbox.ladder.Tier;
import dev.gearbox.router.Decision;
import dev.gearbox.router.ZeroShotRule;
import dev.gearbox.schedule.Hop;
import dev.gearbox.schedule.LadderEngine;
import dev.gearbox.schedule.Result;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code gearbox route}: where the ladder's router sends a prompt, and optionally the answer. */
@Command(name = "route", mixinStandardHelpOptions = true,
        description = {"Shows which tier of a ladder the router picks for a prompt (the gatekeeper's pass on the CPU,",
                "then the trained head from router.json or the zero-shot rule).",
                "Prints the chosen tier; --explain adds per-tier probabilities, thresholds, signals and timing;",
                "--generate also answers the prompt (greedy, escalating where the ladder says) and shows every hop."})
final class RouteCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    LadderOptions ladderOptions = new LadderOptions();

    @ArgGroup(exclusive = true, multiplicity = "1")
    GenerateCommand.PromptSource source;

    @Option(names = "--explain", description = "Explain the decision: probabilities, thresholds, signals, time.")
    boolean explain;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Option(names = {"-g", "--generate"}, description = "Also answer the prompt on the chosen tier(s).")
    boolean generate;

    @Option(names = "--tier", paramLabel = "NAME", description = "Skip the router: answer on this tier (or 'ensemble'); implies --generate.")
    String tier;

    @Option(names = "--no-escalate", description = "Do not escalate when a watched tier loses confidence.")
    boolean noEscalate;

    @Override
    public Integer call() throws Exception {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        String prompt = source.read();
        try (Ladder ladder = ladderOptions.open(); LadderEngine engine = new LadderEngine(ladder)) {
            Decision d = tier != null ? Decision.forced(ladder.tierNames(), tier) : engine.route(prompt);
            Result r = null;
            if (generate || tier != null) {
                r = engine.execute(prompt, d, LadderEngine.Options.defaults(ladder).withEscalate(!noEscalate));
            }
            if (json) {
                out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(toJson(ladder, prompt, d, r)));
            } else if (explain) {
                printExplain(out, ladder, d, r);
            } else if (r != null) {
                out.println(r.text().trim());
                err.println(summary(r));
            } else {
                out.println(d.choice());
            }
            out.flush();
            err.flush();
        }
        return Main.EXIT_OK;
    }

    static String summary(Result r) {
        StringBuilder hops = new StringBuilder();
        for (Hop h : r.hops()) hops.append(hops.isEmpty() ? "" : " -> ").append(h.tier());
        String to = r.decision().choice() + (r.decision().expert() != null ? ":" + r.decision().expert() : "");
        String how = r.decision().source().equals("forced") ? "forced to " + to : "routed to " + to + " by " + r.decision().source();
        return String.format(Locale.ROOT, "gearbox: %s, tiers %s, %d tokens, %s FLOPs, %.1f ms",
                how, hops, r.tokens().length, eng(r.flops()), r.timings().totalNanos() / 1e6);
    }

    private static void printExplain(PrintWriter out, Ladder ladder, Decision d, Result r) {
        out.printf(Locale.ROOT, "decision: %s (%s)%n", d.choice(), d.source());
        out.printf("reason:   %s%n", d.reason());
        boolean routed = d.signals() != null;
        out.println("tiers:");
        for (Tier t : ladder.tiers()) {
            boolean largest = t.index() == ladder.tiers().size() - 1;
            String p = routed ? String.format(Locale.ROOT, "P=%.3f", d.probabilities()[t.index()]) : "P=-";
            Double th = d.thresholds().get(t.name());
            String ths = largest ? "largest" : th != null ? String.format(Locale.ROOT, "threshold %.3f", th) : "no threshold";
            out.printf(Locale.ROOT, "  %-8s %s  %-16s %s params, %s FLOPs/token%s%n", t.name(), p, ths,
                    eng(t.parameterCount()), eng(t.costPerToken()), t.name().equals(d.choice()) ? "  <- chosen" : "");
        }
        if (!d.taskProbabilities().isEmpty()) {
            // Transformer²'s first pass: which task the prompt is, and so which expert the chosen tier answers with.
            StringBuilder tp = new StringBuilder();
            d.taskProbabilities().forEach((task, p) -> tp.append(tp.isEmpty() ? "" : ", ").append(String.format(Locale.ROOT, "%s %.3f", task, p)));
            out.printf(Locale.ROOT, "tasks:    %s%n", tp);
            Tier chosen = d.ensemble() ? null : ladder.tier(d.choice());
            out.printf(Locale.ROOT, "expert:   %s%n", d.expert() != null ? d.choice() + ":" + d.expert()
                    : "none" + (chosen != null && !chosen.experts().isEmpty() ? " (" + d.choice() + " has " + String.join(", ", chosen.experts().keySet()) + ")" : ""));
        }
        var ens = ladder.ensemble();
        if (ens != null) {
            Double th = d.thresholds().get(Decision.ENSEMBLE);
            out.printf(Locale.ROOT, "ensemble: %s, weights %s, %s%s%n", String.join("+", ens.tiers()), ens.weights(),
                    th != null ? String.format(Locale.ROOT, "chosen when every P < %.3f", th) : "no threshold (never chosen by the router)",
                    d.ensemble() ? "  <- chosen" : "");
        }
        if (routed) {
            out.println("signals:");
            for (Map.Entry<String, Double> e : d.signals().asMap().entrySet()) {
                out.printf(Locale.ROOT, "  %-22s %s%n", e.getKey(), num(e.getValue()));
            }
            if (d.source().equals("zero-shot")) {
                out.printf(Locale.ROOT, "  %-22s %.4f (zero-shot: mean of uncertainty entropy_last / ln %d = %.4f and length ln(tokens) / ln %d = %.4f)%n",
                        "difficulty", ZeroShotRule.difficulty(d.signals()), d.signals().vocabSize(), ZeroShotRule.uncertainty(d.signals()),
                        ZeroShotRule.LONG_PROMPT, ZeroShotRule.length(d.signals()));
            }
            out.printf(Locale.ROOT, "time:     %.3f ms (gatekeeper %s on the CPU, %d tokens, %s FLOPs; a fresh process's first call"
                            + " includes JIT warm-up, `gearbox bench-router` measures the steady state)%n", d.nanos() / 1e6,
                    ladder.config().gatekeeper().model(), d.signals().promptTokens(), eng(d.gatekeeperFlops()));
        }
        if (r != null) {
            out.println("answer:   " + r.text().trim());
            out.println("hops:");
            for (Hop h : r.hops()) {
                out.printf(Locale.ROOT, "  %-8s %s%d tokens, %s, %s FLOPs, %.1f ms%n", h.tier(),
                        h.startTokens() > 0 ? h.startTokens() + " kept + " : "", h.tokensGenerated(), h.reason(), eng(h.flops()), h.nanos() / 1e6);
            }
            if (r.tier().equals(Decision.ENSEMBLE)) out.println("members:  " + String.join(", ", ladder.ensemble().tiers()));
            out.printf(Locale.ROOT, "compute:  %s FLOPs in all (gatekeeper %s), cost %s; %.1f ms%n", eng(r.flops()),
                    eng(d.gatekeeperFlops()), eng(r.cost()), r.timings().totalNanos() / 1e6);
        }
    }

    /** One object: the ladder, the prompt, the {@code gearbox} object (the server's and batch's shape), the tiers, the answer. */
    static ObjectNode toJson(Ladder ladder, String prompt, Decision d, Result r) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("ladder", ladder.path().toString());
        o.put("prompt", prompt);
        ObjectNode g = RoutingJson.gearbox(d, r);
        ObjectNode sig = RoutingJson.signals(d);
        if (sig != null && d.source().equals("zero-shot")) sig.put("difficulty", ZeroShotRule.difficulty(d.signals()));
        if (sig == null) g.putNull("signals");
        else g.set("signals", sig);
        o.set("gearbox", g);
        ArrayNode tiers = o.putArray("tiers");
        for (Tier t : ladder.tiers()) {
            ObjectNode x = tiers.addObject();
            x.put("name", t.name());
            x.put("model", t.config().model());
            x.put("parameters", t.parameterCount());
            x.put("cost_per_token", t.costPerToken());
        }
        var ens = ladder.ensemble();
        if (ens == null) o.putNull("ensemble");
        else {
            ObjectNode e = o.putObject("ensemble");
            ArrayNode members = e.putArray("tiers");
            ens.tiers().forEach(members::add);
            ArrayNode w = e.putArray("weights");
            ens.weights().forEach(w::add);
        }
        if (r != null) {
            ObjectNode a = o.putObject("answer");
            a.put("text", r.text().trim());
            ArrayNode tokens = a.putArray("tokens");
            for (int t : r.tokens()) tokens.add(t);
            a.put("finish_reason", r.finishReason());
            a.set("usage", RoutingJson.usage(r.usage()));
            a.put("time_ms", r.timings().totalNanos() / 1e6);
        }
        return o;
    }

    private static String num(double v) {
        return v == Math.rint(v) && Math.abs(v) < 1e9 ? String.valueOf((long) v) : String.format(Locale.ROOT, "%.4f", v);
    }

    /** 1234567 -> "1.23M". */
    static String eng(double v) {
        String[] units = {"", "K", "M", "G", "T", "P"};
        int u = 0;
        double x = v;
        while (Math.abs(x) >= 1000 && u < units.length - 1) {
            x /= 1000;
            u++;
        }
        return String.format(Locale.ROOT, u == 0 ? "%.0f%s" : "%.2f%s", x, units[u]);
    }
}
