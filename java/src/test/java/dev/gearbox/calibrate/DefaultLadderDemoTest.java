package dev.gearbox.calibrate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gearbox.cli.CliRunner;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The project's headline check: {@code gearbox demo --json} on the committed default ladder
 * (models/ladder.yaml, its router.json and models/data/heldout.jsonl) prints the required keys and
 * meets the goal: routed accuracy at least 95% of always-largest, at most 50% of its compute, above
 * random routing at the same compute. Skipped where the models are not in the checkout.
 */
class DefaultLadderDemoTest {
    static final Path LADDER = Path.of("models", "ladder.yaml");
    static final Path HELDOUT = Path.of("models", "data", "heldout.jsonl");

    @Test
    void demoOnTheDefaultLadderMeetsTheGoal(@TempDir Path tmp) throws Exception {
        Assumptions.assumeTrue(Files.isRegularFile(LADDER) && Files.isRegularFile(HELDOUT), "needs the committed default ladder in models/");
        var r = CliRunner.run("demo", "--json", "--quiet", "--cache", tmp.resolve("answers.jsonl").toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode o = new ObjectMapper().readTree(r.out());
        for (String key : List.of("tiers", "routed_accuracy", "largest_accuracy", "random_accuracy_same_cost", "compute_share", "gatekeeper_p50_ms")) {
            assertThat(o.has(key)).as("key %s in %s", key, r.out()).isTrue();
        }
        assertThat(o.get("tiers").size()).isGreaterThanOrEqualTo(3);
        for (JsonNode t : o.get("tiers")) assertThat(t.has("name") && t.has("share") && t.has("accuracy")).as(t.toString()).isTrue();
        assertThat(o.get("router").asText()).as("the committed router.json is used").isEqualTo("router.json");

        double routed = o.get("routed_accuracy").asDouble(), largest = o.get("largest_accuracy").asDouble();
        assertThat(routed).as("routed accuracy vs 95%% of always-largest (%s)", r.out()).isGreaterThanOrEqualTo(0.95 * largest);
        assertThat(o.get("compute_share").asDouble()).as("compute share (%s)", r.out()).isLessThanOrEqualTo(0.5);
        assertThat(routed).as("above random routing at the same compute (%s)", r.out()).isGreaterThan(o.get("random_accuracy_same_cost").asDouble());
        assertThat(o.get("goal").get("met").asBoolean()).isTrue();
    }
}
