package dev.gearbox.ladder;

import dev.gearbox.ladder.LadderConfig.TierConfig;
import dev.gearbox.model.Model;
import dev.gearbox.svf.SvfAdapter;
import dev.gearbox.svf.SvfExpert;
import dev.gearbox.template.ChatRenderer;

import java.nio.file.Path;
import java.util.Map;

/** One loaded rung of a ladder: its config, its model, and what a token costs on it. */
public final class Tier {
    private final int index;
    private final TierConfig config;
    private final Model model;
    private final ChatRenderer chat;
    private final Map<String, SvfExpert> experts;
    private final TierExperts adapted;

    Tier(int index, TierConfig config, Model model, ChatRenderer chat, Map<String, SvfExpert> experts, Path factors) {
        this.experts = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(experts)); // keeps the ladder file's order
        this.index = index;
        this.config = config;
        this.model = model;
        this.chat = chat;
        this.adapted = new TierExperts(this, factors);
    }

    /**
     * How a conversation becomes this tier's prompt: its {@code chat_template} (a built-in name or a
     * template file), else the model's own template; null when there is neither (the plain contents).
     */
    public ChatRenderer chatRenderer() { return chat; }

    public String name() { return config.name(); }

    /**
     * The tier's SVF experts by task ({@code experts:} in the ladder), each checked at open against
     * this tier's model file. {@link #adaptation} is one ready to run.
     */
    public Map<String, SvfExpert> experts() { return experts; }

    /** Whether this tier has an expert for {@code task} (null: no task, false). */
    public boolean hasExpert(String task) { return task != null && experts.containsKey(task); }

    /**
     * The expert for {@code task} built for this tier's model in the tier's form ({@code expert_form},
     * {@code expert_rank}), with its approximation error: built on first use, then shared by every
     * sequence of the tier. An unknown task is an {@link IllegalArgumentException} naming the tier's experts.
     */
    public SvfAdapter.Built adaptation(String task) {
        return adapted.get(task);
    }

    /**
     * An expert of this tier's model that is not in the ladder (a few-shot mixture, a candidate of
     * a search) built in the tier's form, not cached.
     */
    public SvfAdapter.Built adaptation(SvfExpert expert) {
        return adapted.build(expert, name() + ":" + expert.task());
    }

    /** Position in the ladder, 0 = smallest. */
    public int index() { return index; }

    public TierConfig config() { return config; }

    public Model model() { return model; }

    public long parameterCount() { return model.config().parameterCount(); }

    public int vocabSize() { return model.config().vocabSize(); }

    /** KV-cache size of this tier's sequences (prompt plus answer). */
    public int context() { return config.context(); }

    /** Escalation settings when this tier is watched, else null. */
    public LadderConfig.EscalateConfig escalate() { return config.escalate(); }

    /**
     * Cost of one token in the ladder's cost unit: {@code cost_per_token} when the ladder gives it,
     * else the FLOPs of one token's forward pass at position 0 (weights only, attention adds a
     * little per position; {@link #flops} counts that exactly).
     */
    public double costPerToken() {
        return config.costPerToken() != null ? config.costPerToken() : model.config().flopsPerToken(0);
    }

    /** FLOPs (from the shape) of running {@code n} tokens at positions [from, from + n). */
    public double flops(int from, int n) {
        return model.config().flops(from, n);
    }

    /** Cost of running {@code n} tokens at positions [from, from + n): FLOPs unless the ladder sets {@code cost_per_token}. */
    public double cost(int from, int n) {
        return config.costPerToken() != null ? n * config.costPerToken() : flops(from, n);
    }

    @Override
    public String toString() {
        return name() + " (" + parameterCount() + " parameters)";
    }
}
