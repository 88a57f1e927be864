package dev.gearbox.profile;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gearbox.cli.CliRunner;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** {@code gearbox profile} on the default ladder with 20 held-out rows. */
class ProfileCommandTest {
    @TempDir
    Path dir;

    @BeforeEach
    void redirect() {
        System.setProperty("gearbox.cache.home", dir.resolve("cache").toString());
    }

    @AfterEach
    void restore() {
        System.clearProperty("gearbox.cache.home");
    }

    @Test
    void profileWritesATraceAndPrintsTheSummary() throws Exception {
        Path ladder = Path.of("models/ladder.yaml"), data = Path.of("models/data/heldout.jsonl");
        assumeTrue(Files.exists(ladder) && Files.exists(data), "models/ladder.yaml and models/data/heldout.jsonl are needed");
        // Cached ceilings (as --calibrate-machine leaves them), so the summary shows the columns against them.
        new MachineCeilings(20e9, 200e9, 2, "test").save();
        Path trace = dir.resolve("out/trace.json");
        var r = CliRunner.run("profile", "--ladder", ladder.toString(), "--workload", data.toString(), "-n", "20",
                "--out", trace.toString(), "--max-tokens", "8");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("20 requests (0 failed)", "Per tier", "Per operation", "matmul", "attention", "gatekeeper",
                "queue_wait", "ceilings: 20.0 GB/s, 200.0 GFLOP/s");

        JsonNode events = new ObjectMapper().readTree(trace.toFile()).get("traceEvents");
        Set<String> names = new HashSet<>(), tiers = new HashSet<>();
        int steps = 0;
        for (JsonNode e : events) {
            if (!e.get("ph").asText().equals("X")) continue;
            names.add(e.get("name").asText());
            if (e.get("cat").asText().equals("step")) {
                steps++;
                assertThat(e.get("args").has("batch")).isTrue();
                assertThat(e.get("args").has("lane")).isTrue();
                tiers.add(e.get("args").get("tier").asText());
            }
        }
        assertThat(steps).isPositive();
        assertProperlyNested(events);
        assertThat(names).contains("gatekeeper", "queue_wait", "hop", "matmul");
        assertThat(names).containsAnyOf("prefill", "prefill+decode");
        assertThat(tiers).isNotEmpty();
        assertThat(Profiler.recording()).isFalse();     // left off after the run
    }

    /** Complete events on one track must nest (no partial overlaps), or trace viewers misdraw them. */
    static void assertProperlyNested(JsonNode events) {
        java.util.Map<Integer, java.util.List<double[]>> byTid = new java.util.HashMap<>();
        for (JsonNode e : events) {
            if (!e.get("ph").asText().equals("X")) continue;
            byTid.computeIfAbsent(e.get("tid").asInt(), k -> new java.util.ArrayList<>())
                    .add(new double[] {e.get("ts").asDouble(), e.get("ts").asDouble() + e.get("dur").asDouble()});
        }
        for (var entry : byTid.entrySet()) {
            var list = entry.getValue();
            list.sort((a, b) -> a[0] != b[0] ? Double.compare(a[0], b[0]) : Double.compare(b[1], a[1]));
            java.util.ArrayDeque<Double> open = new java.util.ArrayDeque<>();
            for (double[] ev : list) {
                while (!open.isEmpty() && open.peek() <= ev[0] + 1e-3) open.pop();
                if (!open.isEmpty()) {
                    assertThat(ev[1]).as("event [%s, %s] on track %s overlaps its enclosing event's end %s", ev[0], ev[1], entry.getKey(), open.peek())
                            .isLessThanOrEqualTo(open.peek() + 1e-3);
                }
                open.push(ev[1]);
            }
        }
    }

    @Test
    void ensembleStepsAreSpansPerMember() throws Exception {
        Path ladder = Path.of("models/ladder.yaml"), data = Path.of("models/data/heldout.jsonl");
        assumeTrue(Files.exists(ladder) && Files.exists(data), "models/ladder.yaml and models/data/heldout.jsonl are needed");
        Path trace = dir.resolve("ens.json");
        var r = CliRunner.run("profile", "--ladder", ladder.toString(), "--workload", data.toString(), "-n", "2",
                "--model", "ensemble", "--out", trace.toString(), "--max-tokens", "3");
        assertThat(r.exitCode()).as(r.err()).isZero();
        Set<String> names = new HashSet<>(), memberTiers = new HashSet<>();
        for (JsonNode e : new ObjectMapper().readTree(trace.toFile()).get("traceEvents")) {
            if (!e.get("ph").asText().equals("X")) continue;
            names.add(e.get("name").asText());
            if (e.get("name").asText().startsWith("ensemble_")) memberTiers.add(e.get("args").get("tier").asText());
        }
        assertThat(names).contains("ensemble_prefill", "queue_wait", "forward_prefill", "matmul");
        assertThat(memberTiers).hasSize(2);
        assertProperlyNested(new ObjectMapper().readTree(trace.toFile()).get("traceEvents"));   // both members of the ladder's ensemble
    }

    @Test
    void withoutCachedCeilingsItSaysToCalibrate() throws Exception {
        Path wl = dir.resolve("wl.jsonl");
        Files.writeString(wl, "{\"prompt\": \"add:1+2=\"}\n");
        Path ladder = Path.of("models/ladder.yaml");
        assumeTrue(Files.exists(ladder), "models/ladder.yaml is needed");
        var r = CliRunner.run("profile", "--ladder", ladder.toString(), "--workload", wl.toString(), "--out", dir.resolve("t.json").toString(),
                "--model", "s", "--max-tokens", "2");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).contains("--calibrate-machine");
        assertThat(Files.exists(dir.resolve("t.json"))).isTrue();
    }

    @Test
    void missingWorkloadIsAClearError() {
        var r = CliRunner.run("profile", "--out", dir.resolve("t.json").toString());
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.err()).contains("--workload");
    }
}
