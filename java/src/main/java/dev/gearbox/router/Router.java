package dev.gearbox.router;

import dev.gearbox.ladder.Ladder;
import dev.gearbox.ladder.LadderException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Decides where a prompt goes: the gatekeeper reads it, a head (trained {@link RouterHead} from
 * router.json, else the {@link ZeroShotRule}) gives per-tier probabilities, and
 * {@link #choose} picks the smallest tier whose probability clears its threshold.
 */
public final class Router implements AutoCloseable {
    private final List<String> tierNames;
    private final boolean ensembleEnabled;
    private final Gatekeeper gatekeeper;
    private final RouterHead head;
    private final Map<String, Double> thresholds;

    private final dev.gearbox.template.ChatRenderer chat;
    private final boolean readsLastUserTurn;
    /** Routing with SVF experts (router-experts.json), or null: the head above routes, with no expert. */
    private final ExpertRouting experts;
    /** Per tier, the tasks it has experts for. */
    private final Map<String, Set<String>> tierExperts;

    private Router(Ladder ladder, RouterHead head, ExpertRouting experts) {
        this.chat = ladder.gatekeeperChat();
        this.readsLastUserTurn = ladder.config().gatekeeper().readsLastUserTurn();
        this.tierNames = ladder.tierNames();
        this.ensembleEnabled = ladder.ensemble() != null;
        this.gatekeeper = new Gatekeeper(ladder.gatekeeperModel(), ladder.config().gatekeeper());
        this.experts = experts;
        this.head = experts != null ? experts.head() : head;
        this.thresholds = this.head != null ? this.head.thresholds() : zeroShotThresholds(tierNames);
        this.tierExperts = tierExperts(ladder);
    }

    /**
     * The ladder's router: with SVF experts when the ladder has them and router-experts.json is
     * beside it (written by calibrate), else its trained head when router.json exists, else the
     * zero-shot rule.
     */
    public static Router forLadder(Ladder ladder) throws IOException {
        return forLadder(ladder, true);
    }

    /** {@link #forLadder(Ladder)}, with expert routing only when {@code experts} (false: as if the ladder had none). */
    public static Router forLadder(Ladder ladder, boolean experts) throws IOException {
        if (experts && hasExperts(ladder)) {
            Path file = ladder.dir().resolve(ExpertRouting.FILE);
            ExpertRouting routing = ExpertRouting.load(file);
            Router r = new Router(ladder, null, routing);
            try {
                routing.checkCompatible(file, r.gatekeeper.featureNames(), ladder.tierNames(), r.tierExperts);
            } catch (LadderException e) {
                r.close();
                throw e;
            }
            return r;
        }
        var path = ladder.routerPath();
        if (!Files.exists(path)) return zeroShot(ladder);
        return withHead(ladder, RouterHead.load(path));
    }

    /** True when some tier has SVF experts and calibrate has written router-experts.json beside the ladder. */
    public static boolean hasExperts(Ladder ladder) {
        return ladder.tiers().stream().anyMatch(t -> !t.experts().isEmpty()) && Files.exists(ladder.dir().resolve(ExpertRouting.FILE));
    }

    private static Map<String, Set<String>> tierExperts(Ladder ladder) {
        Map<String, Set<String>> m = new LinkedHashMap<>();
        for (var t : ladder.tiers()) m.put(t.name(), Set.copyOf(t.experts().keySet()));
        return m;
    }

    public static Router zeroShot(Ladder ladder) {
        return new Router(ladder, null, null);
    }

    /** A router with the given head, checked against the ladder's tiers and gatekeeper. */
    public static Router withHead(Ladder ladder, RouterHead head) throws LadderException {
        Router r = new Router(ladder, head, null);
        try {
            head.checkCompatible(ladder.routerPath(), r.gatekeeper.featureNames(), ladder.tierNames());
        } catch (LadderException e) {
            r.close();
            throw e;
        }
        return r;
    }

    /** The expert routing in use, or null. */
    public ExpertRouting experts() { return experts; }

    private static Map<String, Double> zeroShotThresholds(List<String> tiers) {
        Map<String, Double> m = new LinkedHashMap<>();
        for (int i = 0; i + 1 < tiers.size(); i++) m.put(tiers.get(i), ZeroShotRule.THRESHOLD);
        return m;
    }

    public Gatekeeper gatekeeper() { return gatekeeper; }

    /** The trained head, or null when routing by the zero-shot rule. */
    public RouterHead head() { return head; }

    public String source() { return experts != null ? ExpertRouting.FILE : head != null ? "router.json" : "zero-shot"; }

    public Map<String, Double> thresholds() { return thresholds; }

    public List<String> tierNames() { return tierNames; }

    public Features features(String prompt) {
        return gatekeeper.features(prompt);
    }

    /** Per tier, P(answer as good as the largest tier's), from the head or the zero-shot rule. */
    public double[] probabilities(Features f) {
        return head != null ? head.probabilities(f.vector()) : ZeroShotRule.probabilities(f.signals(), tierNames.size());
    }

    /** Gatekeeper pass and decision with this router's thresholds. */
    public Decision route(String prompt) {
        return decide(features(prompt), thresholds);
    }

    /** {@link #route(String)} reading {@code ids} (the prompt's tokens as the gatekeeper's tier reads them), or the text's own when null. */
    public Decision route(String prompt, int[] ids) {
        return decide(gatekeeper.features(prompt, ids), thresholds);
    }

    /**
     * What the gatekeeper reads of a conversation: the conversation as the gatekeeper model's chat
     * template renders it (its text, and its ids, which are the ones that model's tier reads), or,
     * with {@code gatekeeper.reads: last_user}, the last user message alone (ids null: tokenized as text).
     */
    public record Input(String text, int[] ids) {}

    public Input input(dev.gearbox.template.Conversation c) {
        if (readsLastUserTurn) return new Input(c.lastUserText(), null);
        if (chat == null) return new Input(c.plainText(), null);
        String text = dev.gearbox.template.ChatPrompt.text(chat, c);
        return new Input(text, dev.gearbox.template.ChatPrompt.tokensOfRendered(gatekeeper.model().tokenizer(), text));
    }


    /** A decision from already computed features (calibration computes them once and tries many thresholds). */
    public Decision decide(Features f, Map<String, Double> thresholds) {
        long t0 = System.nanoTime();
        double[] p = probabilities(f);
        int idx = choose(p, tierNames, thresholds, ensembleEnabled);
        String choice = idx < 0 ? Decision.ENSEMBLE : tierNames.get(idx);
        String reason = reason(p, idx, tierNames, thresholds);
        String expert = null;
        Map<String, Double> taskP = Map.of();
        if (experts != null) {
            // Transformer²'s first pass: the task, from the same features; its expert where the chosen tier has one.
            ExpertRouting.Task task = experts.task(f.vector());
            taskP = task.probabilities();
            expert = idx < 0 ? null : ExpertRouting.expertFor(task.task(), tierExperts.get(choice));
            reason += task.task() == null
                    ? String.format(Locale.ROOT, "; no task is at least %.2f likely: no expert", experts.minTaskProbability())
                    : expert != null ? "; task '" + task.task() + "': expert " + expert
                    : "; task '" + task.task() + "': " + choice + " has no expert for it";
        }
        long nanos = f.nanos() + (System.nanoTime() - t0);
        return new Decision(choice, idx, tierNames, p, Map.copyOf(thresholds), f.signals(), source(),
                reason, nanos, f.flops(), expert, taskP);
    }

    /**
     * The decision rule: the smallest tier below the largest whose probability is at least its
     * threshold (a tier with no threshold is never picked early); failing that, the ensemble when
     * the ladder enables it, an {@code "ensemble"} threshold is set and every such probability is
     * below it (the prompt looks hard for all but the largest tier); else the largest tier.
     * Returns the tier index, or -1 for the ensemble.
     */
    public static int choose(double[] probabilities, List<String> tierNames, Map<String, Double> thresholds, boolean ensembleEnabled) {
        int n = tierNames.size();
        double best = 0;
        for (int i = 0; i + 1 < n; i++) {
            Double t = thresholds.get(tierNames.get(i));
            if (t != null && probabilities[i] >= t) return i;
            best = Math.max(best, probabilities[i]);
        }
        Double te = thresholds.get(Decision.ENSEMBLE);
        if (ensembleEnabled && te != null && best < te) return -1;
        return n - 1;
    }

    static String reason(double[] p, int idx, List<String> tiers, Map<String, Double> th) {
        int n = tiers.size();
        if (idx >= 0 && idx < n - 1) {
            return String.format(Locale.ROOT, "smallest tier clearing its threshold: P(%s) = %.3f >= %.3f", tiers.get(idx), p[idx], th.get(tiers.get(idx)));
        }
        if (idx < 0) {
            return String.format(Locale.ROOT, "no tier clears its threshold and every P is below the ensemble threshold %.3f", th.get(Decision.ENSEMBLE));
        }
        return n == 1 ? "the ladder has one tier" : "no smaller tier clears its threshold: the largest tier";
    }

    @Override
    public void close() {
        gatekeeper.close();
    }
}
