package dev.gearbox.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gearbox.ladder.TestLadders;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The calibrate and demo commands: options, output, errors (random tiny tiers; answers are noise). */
class CalibrateCommandTest {
    @TempDir static Path dir;
    static Path ladder, data, cache;

    @BeforeAll
    static void setUp() throws Exception {
        ladder = TestLadders.ladder(dir, "", "");
        cache = dir.resolve("cache.jsonl");
        StringBuilder sb = new StringBuilder();
        for (int i = 0; i < 16; i++) {
            sb.append("{\"prompt\": \"").append(i).append(" plus ").append(i + 2).append("\"")
                    .append(i % 2 == 0 ? ", \"reference\": \"" + (2 * i + 2) + "\", \"grade\": \"numeric\"" : "").append("}\n");
        }
        data = TestLadders.write(dir.resolve("data.jsonl"), sb.toString());
    }

    @Test
    void calibratePrintsTheSummaryAndWritesTheFiles() throws Exception {
        CliRun r = CliRun.run("calibrate", "--ladder", ladder.toString(), "--data", data.toString(), "--budget", "0.5", "--split", "0.5",
                "--seed", "4", "--cache", cache.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("router: " + dir.resolve("router.json"), "held-out (4 prompts)", "APGR", "report: ");
        assertThat(r.err()).contains("calibrate: 16 prompts", "8 train / 4 validation / 4 held-out", "calibrate: tier l: 16/16");
        assertThat(dir.resolve("router.json")).exists();
        assertThat(Files.readString(dir.resolve("calibration-report.md"))).contains("the best quality within 0.5 x the largest tier's compute");
        assertThat(dir.resolve("calibration-report.svg")).exists();

        CliRun demo = CliRun.run("demo", "--ladder", ladder.toString(), "--data", data.toString(), "--cache", cache.toString(), "--quiet");
        assertThat(demo.exitCode()).as(demo.err()).isZero();
        assertThat(demo.err()).isEmpty();
        assertThat(demo.out()).contains("router: router.json", "routed accuracy", "always-largest accuracy", "random routing, same cost",
                "compute vs always-largest", "gatekeeper overhead", "goal (routed >= 95% of largest, compute <= 50%, above random):");

        CliRun json = CliRun.run("demo", "--ladder", ladder.toString(), "--data", data.toString(), "--cache", cache.toString(), "--json");
        assertThat(json.exitCode()).as(json.err()).isZero();
        JsonNode o = new ObjectMapper().readTree(json.out());
        assertThat(o.get("tiers").size()).isEqualTo(3);
        assertThat(o.get("prompts").asInt()).isEqualTo(16);
        double shares = 0;
        for (JsonNode t : o.get("tiers")) shares += t.get("share").asDouble();
        assertThat(shares).isCloseTo(1.0, org.assertj.core.api.Assertions.within(1e-9));
    }

    @Test
    void targetAndBudgetExcludeEachOther() {
        CliRun r = CliRun.run("calibrate", "--ladder", ladder.toString(), "--data", data.toString(), "--target-quality", "0.9", "--budget", "0.3");
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.err()).contains("mutually exclusive");
    }

    @Test
    void errorsAreOneClearLine() throws Exception {
        Path bad = TestLadders.write(dir.resolve("bad.jsonl"), "{\"prompt\": \"a\"}\n{\"prompt\": \"b\", \"grade\": \"numeric\", \"reference\": \"x\"}\n");
        CliRun r = CliRun.run("calibrate", "--ladder", ladder.toString(), "--data", bad.toString(), "--no-cache");
        assertThat(r.exitCode()).isEqualTo(1);
        assertThat(r.err()).contains("gearbox: error: " + bad + ":2: numeric grade but the reference 'x' is not a number");

        CliRun few = CliRun.run("calibrate", "--ladder", ladder.toString(), "--data", TestLadders.write(dir.resolve("few.jsonl"), "{\"prompt\": \"a\"}\n").toString(), "--no-cache");
        assertThat(few.exitCode()).isEqualTo(1);
        assertThat(few.err()).contains("too few to split");

        CliRun split = CliRun.run("calibrate", "--ladder", ladder.toString(), "--data", data.toString(), "--split", "1.5");
        assertThat(split.exitCode()).isEqualTo(2);
        assertThat(split.err()).contains("--split must be strictly between 0 and 1");

        CliRun noData = CliRun.run("demo", "--ladder", ladder.toString(), "--no-cache");
        assertThat(noData.exitCode()).isEqualTo(1);
        assertThat(noData.err()).contains("heldout.jsonl").contains("not found");

        CliRun noLadder = CliRun.run("demo", "--ladder", dir.resolve("nope.yaml").toString(), "--data", data.toString(), "--no-cache");
        assertThat(noLadder.exitCode()).isEqualTo(1);
        assertThat(noLadder.err()).contains("nope.yaml");
    }
}
