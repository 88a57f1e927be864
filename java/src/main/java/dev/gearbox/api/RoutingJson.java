package dev.gearbox.api;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gearbox.router.Decision;
import dev.gearbox.router.Signals;
import dev.gearbox.schedule.Hop;
import dev.gearbox.schedule.Result;
import dev.gearbox.schedule.Usage;

import java.util.List;

/**
 * The one public shape of a routing decision, its hops and usage, rendered for every place that
 * shows them: the server's {@code gearbox} object, batch output lines and {@code gearbox route --json}
 * (docs/server.md documents the fields). One set of names, so a client reads them the same way
 * wherever the answer came from.
 */
public final class RoutingJson {
    private static final ObjectMapper JSON = new ObjectMapper();

    private RoutingJson() {}

    /**
     * The {@code gearbox} object: where the request was routed and why; with {@code result}, also
     * the tier that answered, every hop and the compute.
     */
    public static ObjectNode gearbox(Decision d, Result result) {
        ObjectNode g = JSON.createObjectNode();
        if (d == null) return g;
        g.put("tier", d.choice());
        g.put("source", d.source());
        g.put("reason", d.reason());
        ObjectNode p = g.putObject("probabilities");
        for (int i = 0; i < d.probabilities().length && i < d.tierNames().size(); i++) p.put(d.tierNames().get(i), d.probabilities()[i]);
        ObjectNode th = g.putObject("thresholds");
        d.thresholds().forEach(th::put);
        // the expert the answer ran with (the final hop's), else the one decided; null: base weights
        g.put("expert", result != null ? result.expert() : d.expert());
        if (!d.taskProbabilities().isEmpty()) {
            ObjectNode tp = g.putObject("task_probabilities");
            d.taskProbabilities().forEach(tp::put);
        }
        g.put("gatekeeper_ms", d.nanos() / 1e6);
        g.put("gatekeeper_flops", d.gatekeeperFlops());
        if (result != null) {
            g.put("final_tier", result.tier());
            g.set("hops", hops(result.hops()));
            g.put("escalated", result.escalated());
            g.put("flops", result.flops());
            g.put("cost", result.cost());
        }
        return g;
    }

    /** The gatekeeper's signals behind a routed decision, or null for a forced one. */
    public static ObjectNode signals(Decision d) {
        Signals s = d.signals();
        if (s == null) return null;
        ObjectNode sig = JSON.createObjectNode();
        s.asMap().forEach(sig::put);
        sig.put("vocab_size", s.vocabSize());
        return sig;
    }

    public static ArrayNode hops(List<Hop> hops) {
        ArrayNode out = JSON.createArrayNode();
        for (Hop h : hops) {
            ObjectNode o = out.addObject();
            o.put("tier", h.tier());
            o.put("start_tokens", h.startTokens());
            o.put("tokens_generated", h.tokensGenerated());
            o.put("reason", h.reason());
            o.put("flops", h.flops());
            o.put("cost", h.cost());
            o.put("time_ms", h.nanos() / 1e6);
        }
        return out;
    }

    /** OpenAI's {@code usage}. */
    public static ObjectNode usage(Usage u) {
        ObjectNode o = JSON.createObjectNode();
        o.put("prompt_tokens", u.promptTokens());
        o.put("completion_tokens", u.completionTokens());
        o.put("total_tokens", u.totalTokens());
        o.putObject("prompt_tokens_details").put("cached_tokens", u.cachedTokens());
        return o;
    }
}
