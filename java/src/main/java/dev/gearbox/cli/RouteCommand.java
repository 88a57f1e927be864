package dev.gearbox.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gearbox.ladder.Hop;
import dev.gearbox.ladder.Ladder;
import dev.gearbox.ladder.LadderEngine;
import dev.gearbox.ladder.LadderResponse;
import dev.gearbox.ladder.Tier;
import dev.gearbox.router.Decision;
import dev.gearbox.router.Signals;
import dev.gearbox.router.ZeroShotRule;
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
            LadderResponse r = null;
            if (generate || tier != null) {
                r = engine.execute(prompt, d, LadderEngine.Options.defaults(ladder).withEscalate(!noEscalate));
            }
            if (json) {
                out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(toJson(ladder, prompt, d, r)));
            } else if (explain) {
                printExplain(out, ladder, d, r);
            } else if (r != null) {
                out.println(r.text());
                err.println(summary(r));
            } else {
                out.println(d.choice());
            }
            out.flush();
            err.flush();
        }
        return Main.EXIT_OK;
    }

    static String summary(LadderResponse r) {
        StringBuilder hops = new StringBuilder();
        for (Hop h : r.hops()) hops.append(hops.isEmpty() ? "" : " -> ").append(h.tier());
        String how = r.decision().source().equals("forced") ? "forced to " + r.decision().choice()
                : "routed to " + r.decision().choice() + " by " + r.decision().source();
        return String.format(Locale.ROOT, "gearbox: %s, tiers %s, %d tokens, %s FLOPs, %.1f ms",
                how, hops, r.tokens().length, eng(r.flops()), r.nanos() / 1e6);
    }

    private static void printExplain(PrintWriter out, Ladder ladder, Decision d, LadderResponse r) {
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
            out.println("answer:   " + r.text());
            out.println("hops:");
            for (Hop h : r.hops()) {
                out.printf(Locale.ROOT, "  %-8s %s%d tokens, %s, %s FLOPs, %.1f ms%n", h.tier(),
                        h.startTokens() > 0 ? h.startTokens() + " kept + " : "", h.tokensGenerated(), h.reason(), eng(h.flops()), h.nanos() / 1e6);
            }
            if (!r.ensembleMembers().isEmpty()) out.println("members:  " + String.join(", ", r.ensembleMembers()));
            out.printf(Locale.ROOT, "compute:  %s FLOPs in all (gatekeeper %s), cost %s; %.1f ms%n", eng(r.flops()),
                    eng(d.gatekeeperFlops()), eng(r.cost()), r.nanos() / 1e6);
        }
    }

    static ObjectNode toJson(Ladder ladder, String prompt, Decision d, LadderResponse r) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("ladder", ladder.path().toString());
        o.put("prompt", prompt);
        o.set("decision", decisionJson(d));
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
        if (r != null) o.set("answer", responseJson(r));
        return o;
    }

    static ObjectNode decisionJson(Decision d) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("choice", d.choice());
        o.put("tier_index", d.tierIndex());
        o.put("source", d.source());
        o.put("reason", d.reason());
        ObjectNode p = o.putObject("probabilities");
        for (int i = 0; i < d.probabilities().length; i++) p.put(d.tierNames().get(i), d.probabilities()[i]);
        ObjectNode th = o.putObject("thresholds");
        d.thresholds().forEach(th::put);
        Signals s = d.signals();
        if (s == null) o.putNull("signals");
        else {
            ObjectNode sig = o.putObject("signals");
            s.asMap().forEach(sig::put);
            sig.put("vocab_size", s.vocabSize());
            if (d.source().equals("zero-shot")) sig.put("difficulty", ZeroShotRule.difficulty(s));
        }
        o.put("time_ms", d.nanos() / 1e6);
        o.put("gatekeeper_flops", d.gatekeeperFlops());
        return o;
    }

    static ObjectNode responseJson(LadderResponse r) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        o.put("text", r.text());
        ArrayNode tokens = o.putArray("tokens");
        for (int t : r.tokens()) tokens.add(t);
        o.put("final_tier", r.finalTier());
        o.put("escalated", r.escalated());
        ArrayNode hops = o.putArray("hops");
        for (Hop h : r.hops()) {
            ObjectNode x = hops.addObject();
            x.put("tier", h.tier());
            x.put("start_tokens", h.startTokens());
            x.put("tokens_generated", h.tokensGenerated());
            x.put("reason", h.reason());
            x.put("flops", h.flops());
            x.put("cost", h.cost());
            x.put("time_ms", h.nanos() / 1e6);
        }
        ArrayNode members = o.putArray("ensemble_members");
        r.ensembleMembers().forEach(members::add);
        o.put("flops", r.flops());
        o.put("cost", r.cost());
        o.put("time_ms", r.nanos() / 1e6);
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
