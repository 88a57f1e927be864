package dev.gearbox.ladder;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The contents of a ladder file ({@code models/ladder.yaml}), checked field by field but without
 * opening any model: {@link Ladder#open} does that. Model paths are as written (relative to the
 * ladder file's folder unless absolute); {@link #resolve} turns them into paths.
 *
 * <p>Parsed by hand from Jackson's tree rather than by data binding, so every error names the
 * field ({@code tiers[2].escalate.window}) and unknown keys are rejected instead of ignored: a
 * misspelt {@code min_mean_logprob} would otherwise silently turn escalation off.
 */
public record LadderConfig(
        Path file,
        String name,
        GatekeeperConfig gatekeeper,
        String router,
        int maxAnswerTokens,
        List<TierConfig> tiers,
        EnsembleConfig ensemble) {

    public static final int DEFAULT_MAX_ANSWER_TOKENS = 24;
    public static final String DEFAULT_ROUTER = "router.json";

    /**
     * The gatekeeper: a GGUF run on the CPU, always. {@code context}: its KV-cache size (prompts
     * longer are cut to their last tokens). {@code maxPromptTokens}: read only the last N tokens of
     * a prompt (0 = up to the context). {@code layers}: run only the first K blocks and take
     * hidden-state features from there, without logits (0 = every block, with the logit features).
     * {@code batchTokens}: most prompt tokens read in one batched pass. {@code readsLastUserTurn}
     * ({@code reads: last_user}): of a chat, read the last user message alone instead of the
     * conversation as the gatekeeper model's chat template renders it ({@code reads: conversation}).
     */
    public record GatekeeperConfig(String model, int context, int maxPromptTokens, int layers, int batchTokens, boolean readsLastUserTurn) {
        public static final int DEFAULT_CONTEXT = 512;
        public static final int DEFAULT_BATCH_TOKENS = 2048;

        public GatekeeperConfig(String model, int context) {
            this(model, context, 0, 0, DEFAULT_BATCH_TOKENS, false);
        }

        public GatekeeperConfig(String model, int context, int maxPromptTokens, int layers, int batchTokens) {
            this(model, context, maxPromptTokens, layers, batchTokens, false);
        }

        /** Tokens of a prompt the gatekeeper reads at most. */
        public int promptLimit() {
            return maxPromptTokens > 0 ? Math.min(maxPromptTokens, context) : context;
        }
    }

    /**
     * Watch a tier's confidence: when its generated tokens' log-probabilities, averaged over the last
     * {@code window} tokens, fall below {@code minMeanLogprob}, hand the request to the next tier up.
     * {@code keepPartial}: true = the next tier continues the partial answer (the two vocabularies
     * must match, checked at open); false = it starts over; null (default) = continue when the
     * vocabularies match, else start over.
     */
    public record EscalateConfig(int window, double minMeanLogprob, Boolean keepPartial) {}

    /**
     * One rung. {@code costPerToken} is null when the ladder leaves it to the model's shape.
     * {@code streams} and {@code maxSequences} are for the scheduler; the engine here runs one request at a time.
     * {@code experts}: SVF expert files by task name, as written (relative to the ladder file), in
     * file order; checked at {@link Ladder#open} but not yet served (docs/svf.md).
     */
    public record TierConfig(String name, String model, String backend, int device, int streams, int maxSequences,
                             int context, Double costPerToken, EscalateConfig escalate, String chatTemplate,
                             Map<String, String> experts, ExpertServing expertServing) {
        public TierConfig {
            experts = experts == null ? Map.of() : Collections.unmodifiableMap(new LinkedHashMap<>(experts));
            if (expertServing == null) expertServing = ExpertServing.DEFAULT;
        }

        public TierConfig(String name, String model, String backend, int device, int streams, int maxSequences,
                          int context, Double costPerToken, EscalateConfig escalate, String chatTemplate,
                          Map<String, String> experts) {
            this(name, model, backend, device, streams, maxSequences, context, costPerToken, escalate, chatTemplate, experts, null);
        }

        public TierConfig(String name, String model, String backend, int device, int streams, int maxSequences,
                          int context, Double costPerToken, EscalateConfig escalate, String chatTemplate) {
            this(name, model, backend, device, streams, maxSequences, context, costPerToken, escalate, chatTemplate, Map.of());
        }

        public TierConfig(String name, String model, String backend, int device, int streams, int maxSequences,
                          int context, Double costPerToken, EscalateConfig escalate) {
            this(name, model, backend, device, streams, maxSequences, context, costPerToken, escalate, null);
        }
    }

    /**
     * How a tier applies its experts (docs/svf.md): {@code expert_form} {@code exact} (W' rebuilt in
     * W's place, the default: answers are the trained expert's) or {@code low_rank} (the base product
     * plus the {@code expert_rank} largest components of the change); {@code svf_factors} is the
     * sidecar of the tier's model, relative to the ladder file (null: {@code <model>.svf.gguf}).
     */
    public record ExpertServing(String form, int rank, String factors) {
        public static final int DEFAULT_RANK = 16;
        public static final ExpertServing DEFAULT = new ExpertServing("exact", DEFAULT_RANK, null);
    }

    /** Tiers that answer together; weights sum to 1 after normalisation. */
    public record EnsembleConfig(boolean enabled, List<String> tiers, List<Double> weights) {
        public EnsembleConfig {
            tiers = List.copyOf(tiers);
            weights = List.copyOf(weights);
        }
    }

    public LadderConfig {
        tiers = List.copyOf(tiers);
    }

    /** The folder model paths are relative to. */
    public Path dir() {
        Path parent = file.toAbsolutePath().getParent();
        return parent != null ? parent : Path.of(".").toAbsolutePath();
    }

    /** A path from the ladder file, relative to its folder unless absolute. */
    public Path resolve(String path) {
        return dir().resolve(path).normalize();
    }

    /** Where the trained router head is (or would be) stored. */
    public Path routerPath() {
        return resolve(router != null ? router : DEFAULT_ROUTER);
    }

    public int tierIndex(String tierName) {
        for (int i = 0; i < tiers.size(); i++) if (tiers.get(i).name().equals(tierName)) return i;
        return -1;
    }

    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());

    /** Reads and checks a ladder file. */
    public static LadderConfig read(Path file) throws LadderException {
        if (!Files.exists(file)) throw new LadderException(file, null, "ladder file not found");
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) throw new LadderException(file, null, "not a readable file");
        JsonNode root;
        try {
            root = YAML.readTree(file.toFile());
        } catch (JsonProcessingException e) {
            throw new LadderException(file, null, "not valid YAML: " + e.getOriginalMessage()
                    + (e.getLocation() != null ? " (line " + e.getLocation().getLineNr() + ")" : ""), e);
        } catch (IOException e) {
            throw new LadderException(file, null, "cannot read: " + e.getMessage(), e);
        }
        return parse(file, root);
    }

    /** Checks an already parsed tree (tests build ladders in memory too). */
    public static LadderConfig parse(Path file, JsonNode root) throws LadderException {
        Fields top = new Fields(file, "", root);
        top.allow("name", "gatekeeper", "router", "max_answer_tokens", "tiers", "ensemble");
        String name = top.string("name", "ladder");
        String router = top.string("router", null);
        int maxAnswer = top.integer("max_answer_tokens", DEFAULT_MAX_ANSWER_TOKENS, 1, 1 << 16);

        JsonNode tiersNode = top.node("tiers");
        if (tiersNode == null || !tiersNode.isArray() || tiersNode.isEmpty()) {
            throw new LadderException(file, "tiers", "must be a non-empty list of tiers, smallest first");
        }
        List<TierConfig> tiers = new ArrayList<>();
        Set<String> names = new HashSet<>();
        for (int i = 0; i < tiersNode.size(); i++) {
            TierConfig t = tier(file, "tiers[" + i + "]", tiersNode.get(i));
            if (t.name().equals(ENSEMBLE_NAME)) throw new LadderException(file, "tiers[" + i + "].name", "'ensemble' is reserved for the ensemble decision");
            if (!names.add(t.name())) throw new LadderException(file, "tiers[" + i + "].name", "duplicate tier name '" + t.name() + "'");
            tiers.add(t);
        }

        GatekeeperConfig gk;
        JsonNode gkNode = top.node("gatekeeper");
        if (gkNode == null) {
            gk = new GatekeeperConfig(tiers.getFirst().model(), GatekeeperConfig.DEFAULT_CONTEXT);
        } else if (gkNode.isTextual()) {
            gk = new GatekeeperConfig(gkNode.asText(), GatekeeperConfig.DEFAULT_CONTEXT);
        } else {
            Fields g = new Fields(file, "gatekeeper.", gkNode);
            g.allow("model", "context", "backend", "max_prompt_tokens", "layers", "batch_tokens", "reads");
            String backend = g.string("backend", "cpu");
            if (!backend.equals("cpu")) throw new LadderException(file, "gatekeeper.backend", "the gatekeeper always runs on the CPU (backend: cpu), got '" + backend + "'");
            String model = gkNode.has("model") ? g.requireString("model") : tiers.getFirst().model();
            int context = g.integer("context", GatekeeperConfig.DEFAULT_CONTEXT, 8, 1 << 20);
            String reads = g.string("reads", "conversation");
            if (!reads.equals("conversation") && !reads.equals("last_user")) {
                throw new LadderException(file, "gatekeeper.reads", "must be 'conversation' or 'last_user', got '" + reads + "'");
            }
            gk = new GatekeeperConfig(model, context, g.integer("max_prompt_tokens", 0, 2, 1 << 20), g.integer("layers", 0, 1, 4096),
                    g.integer("batch_tokens", GatekeeperConfig.DEFAULT_BATCH_TOKENS, 16, 1 << 20), reads.equals("last_user"));
        }

        EnsembleConfig ens = null;
        JsonNode ensNode = top.node("ensemble");
        if (ensNode != null && !ensNode.isNull()) {
            Fields e = new Fields(file, "ensemble.", ensNode);
            e.allow("enabled", "tiers", "weights");
            boolean enabled = e.bool("enabled", true);
            List<String> members = e.strings("tiers");
            if (members.size() < 2) throw new LadderException(file, "ensemble.tiers", "an ensemble needs at least two tiers, got " + members.size());
            Set<String> seen = new HashSet<>();
            for (int i = 0; i < members.size(); i++) {
                String m = members.get(i);
                if (!names.contains(m)) throw new LadderException(file, "ensemble.tiers[" + i + "]", "unknown tier '" + m + "' (tiers: " + String.join(", ", tierNames(tiers)) + ")");
                if (!seen.add(m)) throw new LadderException(file, "ensemble.tiers[" + i + "]", "tier '" + m + "' is listed twice");
            }
            List<Double> weights;
            if (e.node("weights") == null) {
                weights = new ArrayList<>();
                for (int i = 0; i < members.size(); i++) weights.add(1.0 / members.size());
            } else {
                weights = e.doubles("weights");
                if (weights.size() != members.size()) {
                    throw new LadderException(file, "ensemble.weights", "has " + weights.size() + " weights for " + members.size() + " tiers");
                }
                double sum = 0;
                for (int i = 0; i < weights.size(); i++) {
                    double w = weights.get(i);
                    if (!Double.isFinite(w) || w < 0) throw new LadderException(file, "ensemble.weights[" + i + "]", "must be a finite number >= 0, got " + w);
                    sum += w;
                }
                if (!(sum > 0)) throw new LadderException(file, "ensemble.weights", "must not all be zero");
                List<Double> norm = new ArrayList<>();
                for (double w : weights) norm.add(w / sum);
                weights = norm;
            }
            ens = new EnsembleConfig(enabled, members, weights);
        }
        return new LadderConfig(file, name, gk, router, maxAnswer, tiers, ens);
    }

    /** The decision name of the ensemble (never a tier name). */
    public static final String ENSEMBLE_NAME = "ensemble";

    private static List<String> tierNames(List<TierConfig> tiers) {
        List<String> out = new ArrayList<>();
        for (TierConfig t : tiers) out.add(t.name());
        return out;
    }

    private static TierConfig tier(Path file, String at, JsonNode node) throws LadderException {
        if (node == null || !node.isObject()) throw new LadderException(file, at, "must be a mapping with at least name and model");
        Fields f = new Fields(file, at + ".", node);
        f.allow("name", "model", "backend", "device", "streams", "max_sequences", "context", "cost_per_token", "escalate", "chat_template", "experts",
                "expert_form", "expert_rank", "svf_factors");
        String name = f.requireString("name");
        if (name.isBlank()) throw new LadderException(file, at + ".name", "must not be empty");
        String model = f.requireString("model");
        String backend = f.string("backend", "cpu");
        int device = f.integer("device", 0, 0, 1 << 10);
        int streams = f.integer("streams", 1, 1, 1 << 10);
        int maxSeq = f.integer("max_sequences", 1, 1, 1 << 16);
        int context = f.integer("context", 256, 8, 1 << 24);
        Double cost = null;
        if (f.node("cost_per_token") != null) {
            double c = f.number("cost_per_token");
            if (!Double.isFinite(c) || c <= 0) throw new LadderException(file, at + ".cost_per_token", "must be a positive number, got " + c);
            cost = c;
        }
        EscalateConfig esc = null;
        JsonNode escNode = f.node("escalate");
        if (escNode != null && !escNode.isNull()) {
            Fields e = new Fields(file, at + ".escalate.", escNode);
            e.allow("window", "min_mean_logprob", "keep_partial");
            int window = e.integer("window", 8, 1, 1 << 16);
            if (e.node("min_mean_logprob") == null) throw new LadderException(file, at + ".escalate.min_mean_logprob", "is required (a log-probability <= 0, e.g. -1.0)");
            double min = e.number("min_mean_logprob");
            if (!Double.isFinite(min) || min > 0) throw new LadderException(file, at + ".escalate.min_mean_logprob", "must be a log-probability <= 0, got " + min);
            Boolean keep = e.node("keep_partial") == null ? null : e.bool("keep_partial", true);
            esc = new EscalateConfig(window, min, keep);
        }
        String form = f.string("expert_form", ExpertServing.DEFAULT.form());
        if (!form.equals("exact") && !form.equals("low_rank")) throw new LadderException(file, at + ".expert_form", "must be exact or low_rank, got '" + form + "'");
        ExpertServing serving = new ExpertServing(form, f.integer("expert_rank", ExpertServing.DEFAULT_RANK, 1, 1 << 16), f.string("svf_factors", null));
        return new TierConfig(name, model, backend, device, streams, maxSeq, context, cost, esc, f.string("chat_template", null),
                experts(file, at + ".experts", f.node("experts")), serving);
    }

    // Task names become file names (experts/<tier>-<task>.gguf) and, later, routing labels.
    private static final Pattern TASK = Pattern.compile("[A-Za-z0-9._-]+");

    /** {@code experts: {task: file, ...}}: SVF expert files by task; the files are checked at open. */
    private static Map<String, String> experts(Path file, String at, JsonNode node) throws LadderException {
        if (node == null) return Map.of();
        if (!node.isObject()) throw new LadderException(file, at, "must be a mapping of task name to expert file, e.g. {math: experts/l-math.gguf}");
        Map<String, String> out = new LinkedHashMap<>();
        for (Iterator<Map.Entry<String, JsonNode>> it = node.fields(); it.hasNext(); ) {
            var e = it.next();
            if (!TASK.matcher(e.getKey()).matches()) {
                throw new LadderException(file, at + "." + e.getKey(), "a task name is letters, digits, '.', '_' or '-'");
            }
            JsonNode v = e.getValue();
            if (v == null || !v.isTextual() || v.asText().isBlank()) throw new LadderException(file, at + "." + e.getKey(), "must be the path of an expert file");
            out.put(e.getKey(), v.asText());
        }
        return out;
    }

    /** Typed, named access to one YAML mapping. */
    private static final class Fields {
        private final Path file;
        private final String prefix;
        private final JsonNode node;

        Fields(Path file, String prefix, JsonNode node) throws LadderException {
            if (node == null || !node.isObject()) {
                String at = prefix.endsWith(".") ? prefix.substring(0, prefix.length() - 1) : prefix;
                throw new LadderException(file, at.isEmpty() ? null : at, "must be a mapping");
            }
            this.file = file;
            this.prefix = prefix;
            this.node = node;
        }

        void allow(String... keys) throws LadderException {
            Set<String> ok = Set.of(keys);
            for (Iterator<String> it = node.fieldNames(); it.hasNext(); ) {
                String k = it.next();
                if (!ok.contains(k)) throw new LadderException(file, prefix + k, "unknown field (expected one of: " + String.join(", ", keys) + ")");
            }
        }

        JsonNode node(String key) {
            JsonNode v = node.get(key);
            return v == null || v.isNull() ? null : v;
        }

        String string(String key, String dflt) throws LadderException {
            JsonNode v = node(key);
            if (v == null) return dflt;
            if (!v.isValueNode() || v.isBoolean()) throw new LadderException(file, prefix + key, "must be a string");
            return v.asText();
        }

        String requireString(String key) throws LadderException {
            String s = string(key, null);
            if (s == null) throw new LadderException(file, prefix + key, "is required");
            return s;
        }

        int integer(String key, int dflt, int min, int max) throws LadderException {
            JsonNode v = node(key);
            if (v == null) return dflt;
            if (!v.isIntegralNumber()) throw new LadderException(file, prefix + key, "must be an integer, got '" + v.asText() + "'");
            long x = v.asLong();
            if (x < min || x > max) throw new LadderException(file, prefix + key, "must be in [" + min + ", " + max + "], got " + x);
            return (int) x;
        }

        double number(String key) throws LadderException {
            JsonNode v = node(key);
            if (v == null || !v.isNumber()) throw new LadderException(file, prefix + key, "must be a number");
            return v.asDouble();
        }

        boolean bool(String key, boolean dflt) throws LadderException {
            JsonNode v = node(key);
            if (v == null) return dflt;
            if (!v.isBoolean()) throw new LadderException(file, prefix + key, "must be true or false");
            return v.asBoolean();
        }

        List<String> strings(String key) throws LadderException {
            JsonNode v = node(key);
            if (v == null || !v.isArray()) throw new LadderException(file, prefix + key, "must be a list of tier names");
            List<String> out = new ArrayList<>();
            for (JsonNode x : v) {
                if (!x.isTextual()) throw new LadderException(file, prefix + key, "must be a list of tier names");
                out.add(x.asText());
            }
            return out;
        }

        List<Double> doubles(String key) throws LadderException {
            JsonNode v = node(key);
            if (v == null || !v.isArray()) throw new LadderException(file, prefix + key, "must be a list of numbers");
            List<Double> out = new ArrayList<>();
            for (JsonNode x : v) {
                if (!x.isNumber()) throw new LadderException(file, prefix + key, "must be a list of numbers, got '" + x.asText() + "'");
                out.add(x.asDouble());
            }
            return out;
        }
    }
}
