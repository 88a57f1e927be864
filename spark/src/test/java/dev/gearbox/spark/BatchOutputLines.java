package dev.gearbox.spark;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import java.util.stream.Stream;

/** OpenAI batch output lines read back for comparison: keyed by custom_id (or the input line), run-specific fields removed. */
final class BatchOutputLines {
    static final ObjectMapper JSON = new ObjectMapper();

    private BatchOutputLines() {}

    /** The lines of a file, or of every part file of a Spark output folder. */
    static List<String> read(Path fileOrDir) throws IOException {
        if (!Files.isDirectory(fileOrDir)) return Files.readAllLines(fileOrDir);
        List<String> out = new ArrayList<>();
        try (Stream<Path> s = Files.list(fileOrDir)) {
            for (Path p : s.filter(p -> p.getFileName().toString().startsWith("part-")).sorted().toList()) out.addAll(Files.readAllLines(p));
        }
        return out;
    }

    /**
     * Each line's gatekeeper probabilities, to compare within a tolerance: its float sums come out a
     * few ulps apart when other prompts share its pass (1e-8 seen; the tier and reason they give
     * are compared exactly).
     */
    static TreeMap<String, java.util.Map<String, Double>> probabilities(List<String> lines) throws IOException {
        TreeMap<String, java.util.Map<String, Double>> out = new TreeMap<>();
        for (String l : lines) {
            JsonNode n = JSON.readTree(l);
            java.util.Map<String, Double> p = new java.util.TreeMap<>();
            JsonNode g = n.path("response").path("body").path("gearbox");
            g.path("probabilities").properties().forEach(e -> p.put(e.getKey(), e.getValue().asDouble()));
            g.path("task_probabilities").properties().forEach(e -> p.put("task:" + e.getKey(), e.getValue().asDouble()));   // the task head's
            out.put(key(n), p);
        }
        return out;
    }

    static String key(JsonNode line) {
        return line.get("custom_id").isTextual() ? "id:" + line.get("custom_id").asText() : "line:" + line.path("error").path("line").asInt();
    }

    /**
     * Keyed, normalized lines; a key seen twice is an error. Removed because they differ between
     * any two runs: the random ids ({@code id}, {@code response.request_id}, {@code
     * response.body.id}), {@code created}, and the measured times ({@code gearbox.gatekeeper_ms},
     * each hop's {@code time_ms}); the gatekeeper's probabilities are left to {@link #probabilities}. Everything else (text, tiers, hops, usage, FLOPs, cost,
     * probabilities, errors) must match byte for byte, but with {@code cacheDependent} false also
     * what depends on the prefix cache's state when the request came (which other requests the
     * scheduler had answered before): {@code usage.prompt_tokens_details.cached_tokens} and the
     * FLOPs and cost of the prefill it skipped ({@code flops}, {@code cost}, each hop's).
     */
    static TreeMap<String, String> normalized(List<String> lines) throws IOException {
        return normalized(lines, true);
    }

    static TreeMap<String, String> normalized(List<String> lines, boolean cacheDependent) throws IOException {
        TreeMap<String, String> out = new TreeMap<>();
        for (String l : lines) {
            ObjectNode n = (ObjectNode) JSON.readTree(l);
            n.remove("id");
            if (n.get("response") instanceof ObjectNode resp) {
                resp.remove("request_id");
                if (resp.get("body") instanceof ObjectNode body) {
                    body.remove("id");
                    body.remove("created");
                    if (body.get("gearbox") instanceof ObjectNode g) {
                        g.remove("gatekeeper_ms");
                        g.path("hops").forEach(h -> ((ObjectNode) h).remove("time_ms"));
                        // compared apart, to within a tolerance (probabilities below)
                        for (String field : List.of("probabilities", "task_probabilities")) {
                            if (g.get(field) instanceof ObjectNode p) { List<String> keys = new ArrayList<>(); p.fieldNames().forEachRemaining(keys::add); g.put(field, String.join(",", keys)); }
                        }
                        if (!cacheDependent) {
                            g.remove(List.of("flops", "cost"));
                            g.path("hops").forEach(h -> ((ObjectNode) h).remove(List.of("flops", "cost")));
                            if (body.path("usage").get("prompt_tokens_details") instanceof ObjectNode d) d.remove("cached_tokens");
                        }
                    }
                }
            }
            String k = key(n);
            if (out.put(k, JSON.writeValueAsString(n)) != null) throw new AssertionError("two output lines for " + k);
        }
        return out;
    }
}
