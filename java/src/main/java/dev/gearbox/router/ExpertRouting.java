package dev.gearbox.router;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gearbox.ladder.LadderException;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Routing with SVF experts, Transformer²'s two passes joined with the ladder, as
 * {@code gearbox calibrate} writes it to {@code router-experts.json} beside the ladder:
 * <ol>
 *   <li>the {@link TaskHead} names the prompt's task from the gatekeeper's features;</li>
 *   <li>each tier that has that task's expert answers with it (when the task head is at least
 *       {@link #minTaskProbability} sure), every other tier without one, and a router head trained on
 *       exactly those answers gives P(that (tier, expert) answers as well as the largest tier
 *       without an expert); the cheapest clearing its threshold is chosen, as {@link Router#choose}.</li>
 * </ol>
 * {@code router.json} stays the ladder's router without experts, so the two can be compared.
 */
public record ExpertRouting(TaskHead taskHead, RouterHead head, double minTaskProbability) {
    public static final String FILE = "router-experts.json";
    public static final String FORMAT = "gearbox-expert-router";
    public static final int VERSION = 1;
    public static final double DEFAULT_MIN_TASK_PROBABILITY = 0.5;

    public ExpertRouting {
        if (!taskHead.featureNames().equals(head.featureNames())) {
            throw new IllegalArgumentException("the task head and the router head read different features");
        }
        if (!(minTaskProbability >= 0 && minTaskProbability <= 1)) {
            throw new IllegalArgumentException("min_task_probability must be in [0, 1], got " + minTaskProbability);
        }
    }

    /** What the first pass says of one prompt: the task probabilities and the task it picks (null: too unsure). */
    public record Task(Map<String, Double> probabilities, String task) {}

    public Task task(double[] features) {
        double[] p = taskHead.probabilities(features);
        int k = TaskHead.argmax(p);
        return new Task(taskHead.named(p), p[k] >= minTaskProbability ? taskHead.tasks().get(k) : null);
    }

    /** The expert tier {@code tier} answers {@code task} with: the task when the tier has its expert, else null (the base tier). */
    public static String expertFor(String task, Set<String> tierExperts) {
        return task != null && tierExperts.contains(task) ? task : null;
    }

    private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

    public void save(Path path) throws IOException {
        ObjectNode o = JSON.createObjectNode();
        o.put("format", FORMAT);
        o.put("version", VERSION);
        o.put("min_task_probability", minTaskProbability);
        o.set("task_head", taskHead.toJson(JSON));
        o.set("router", head.toJson());
        Path abs = path.toAbsolutePath();
        Path tmp = abs.resolveSibling(abs.getFileName() + ".tmp");
        Files.writeString(tmp, JSON.writeValueAsString(o) + "\n");
        Files.move(tmp, abs, java.nio.file.StandardCopyOption.REPLACE_EXISTING, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
    }

    public static ExpertRouting load(Path path) throws LadderException {
        JsonNode o;
        try {
            o = JSON.readTree(path.toFile());
        } catch (IOException e) {
            throw new LadderException(path, null, "cannot read the expert router file: " + e.getMessage(), e);
        }
        if (o == null || !FORMAT.equals(o.path("format").asText())) {
            throw new LadderException(path, "format", "not a Gearbox expert router file (expected \"format\": \"" + FORMAT + "\")");
        }
        if (o.path("version").asInt(-1) != VERSION) throw new LadderException(path, "version", "unsupported version " + o.path("version") + " (expected " + VERSION + ")");
        TaskHead task = TaskHead.fromJson(path, "task_head", o.get("task_head"));
        RouterHead head = RouterHead.fromJson(path, o.get("router"));
        JsonNode min = o.get("min_task_probability");
        if (min != null && !min.isNumber()) throw new LadderException(path, "min_task_probability", "must be a number");
        try {
            return new ExpertRouting(task, head, min == null ? DEFAULT_MIN_TASK_PROBABILITY : min.asDouble());
        } catch (IllegalArgumentException e) {
            throw new LadderException(path, null, e.getMessage(), e);
        }
    }

    /** Throws unless this routing was calibrated for these features, tiers and the tasks the tiers have experts for. */
    public void checkCompatible(Path file, List<String> gatekeeperFeatures, List<String> ladderTiers, Map<String, Set<String>> tierExperts) throws LadderException {
        head.checkCompatible(file, gatekeeperFeatures, ladderTiers);
        for (var e : tierExperts.entrySet()) {
            for (String task : e.getValue()) {
                if (!taskHead.tasks().contains(task)) {
                    throw new LadderException(file, "task_head.tasks", "tier '" + e.getKey() + "' has an expert for task '" + task
                            + "', which the task head does not know (it knows " + taskHead.tasks() + "); recalibrate");
                }
            }
        }
    }
}
