package dev.gearbox.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gearbox.ladder.TestLadders;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code gearbox route} and {@code gearbox bench-router} on a small random ladder. */
class RouteCommandTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    private String ladder(String tierExtras, String extra) throws Exception {
        return TestLadders.ladder(dir, tierExtras, extra).toString();
    }

    @Test
    void printsTheChosenTier() throws Exception {
        CliRun r = CliRun.run("route", "--ladder", ladder("", ""), "-p", "12+34=");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out().strip()).isIn("s", "m", "l");
    }

    @Test
    void explainShowsProbabilitiesSignalsAndTime() throws Exception {
        CliRun r = CliRun.run("route", "--ladder", ladder("", "ensemble: {tiers: [m, l], weights: [0.4, 0.6]}"), "-p", "12+34=", "--explain");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).contains("decision: ", "(zero-shot)", "reason:", "tiers:", "P=", "threshold 0.500", "largest",
                "ensemble: m+l", "signals:", "surprisal_mean", "entropy_last", "top1_prob_last", "difficulty", "time:", " ms");
        assertThat(r.out()).contains("<- chosen");
    }

    @Test
    void jsonWithGenerateHasTheDecisionAndTheAnswer() throws Exception {
        CliRun r = CliRun.run("route", "--ladder", ladder(", escalate: {window: 2, min_mean_logprob: 0}", ""), "-p", "hello",
                "--tier", "s", "--json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode o = JSON.readTree(r.out());
        JsonNode a = o.get("gearbox");   // the server's and batch output's gearbox object
        assertThat(a.get("tier").asText()).isEqualTo("s");
        assertThat(a.get("source").asText()).isEqualTo("forced");
        assertThat(o.get("tiers")).hasSize(3);
        assertThat(o.get("tiers").get(0).get("parameters").asLong()).isPositive();
        assertThat(a.get("hops")).hasSize(2);   // s always escalates at min_mean_logprob 0
        assertThat(a.get("hops").get(0).get("tier").asText()).isEqualTo("s");
        assertThat(a.get("hops").get(0).get("reason").asText()).startsWith("escalate");
        assertThat(a.get("hops").get(1).get("start_tokens").asInt()).isEqualTo(2);
        assertThat(a.get("final_tier").asText()).isEqualTo("m");
        assertThat(a.get("escalated").asBoolean()).isTrue();
        double sum = a.get("hops").get(0).get("flops").asDouble() + a.get("hops").get(1).get("flops").asDouble();
        assertThat(a.get("flops").asDouble()).isCloseTo(sum, org.assertj.core.api.Assertions.within(sum * 1e-9));

        CliRun routed = CliRun.run("route", "--ladder", ladder("", ""), "-p", "hello", "--generate", "--json", "--no-escalate");
        assertThat(routed.exitCode()).as(routed.err()).isZero();
        JsonNode ro = JSON.readTree(routed.out());
        JsonNode g = ro.get("gearbox");
        assertThat(g.get("source").asText()).isEqualTo("zero-shot");
        assertThat(g.get("signals").get("prompt_tokens").asInt()).isPositive();
        assertThat(g.get("probabilities").size()).isEqualTo(3);
        assertThat(g.get("flops").asDouble()).isGreaterThan(g.get("gatekeeper_flops").asDouble());
        assertThat(ro.get("answer").get("usage").get("completion_tokens").asInt()).isEqualTo(ro.get("answer").get("tokens").size());
    }

    @Test
    void generatePrintsTheAnswerAndASummaryOnStderr() throws Exception {
        CliRun r = CliRun.run("route", "--ladder", ladder("", ""), "-p", "hello", "--tier", "m");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).contains("gearbox: forced to m", "tiers m", "FLOPs");
    }

    @Test
    void errorsAreOneLine() throws Exception {
        CliRun missing = CliRun.run("route", "--ladder", dir.resolve("none.yaml").toString(), "-p", "x");
        assertThat(missing.exitCode()).isEqualTo(Main.EXIT_ERROR);
        assertThat(missing.err()).contains("gearbox: error: ").contains("none.yaml").contains("not found");
        String l = ladder("", "");
        Files.delete(dir.resolve("tier-l.gguf"));
        CliRun bad = CliRun.run("route", "--ladder", l, "-p", "x");
        assertThat(bad.err()).contains("tiers[2].model").contains("tier-l.gguf not found");
        CliRun usage = CliRun.run("route", "--ladder", l);
        assertThat(usage.exitCode()).isEqualTo(Main.EXIT_USAGE);
    }

    @Test
    void unknownForcedTier() throws Exception {
        CliRun r = CliRun.run("route", "--ladder", ladder("", ""), "-p", "x", "--tier", "xl");
        assertThat(r.exitCode()).isEqualTo(Main.EXIT_ERROR);
        assertThat(r.err()).contains("no tier named 'xl'");
    }

    @Test
    void benchRouterReportsPercentiles() throws Exception {
        CliRun r = CliRun.run("bench-router", "--ladder", ladder("", ""), "--prompt-tokens", "32", "-n", "10", "--warmup", "2", "-t", "1", "--json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode o = JSON.readTree(r.out());
        assertThat(o.get("prompt_tokens").asInt()).isEqualTo(32);
        assertThat(o.get("n").asInt()).isEqualTo(10);
        assertThat(o.get("threads").asInt()).isEqualTo(1);
        assertThat(o.get("p50_ms").asDouble()).isPositive().isLessThanOrEqualTo(o.get("p99_ms").asDouble());
        assertThat(o.get("min_ms").asDouble()).isLessThanOrEqualTo(o.get("p50_ms").asDouble());

        CliRun text = CliRun.run("bench-router", "--ladder", ladder("", ""), "--prompt-tokens", "16", "-n", "3", "--warmup", "0");
        assertThat(text.exitCode()).as(text.err()).isZero();
        assertThat(text.out()).contains("p50", "p99", "3 prompts of 16 tokens", "decisions:");

        CliRun tooLong = CliRun.run("bench-router", "--ladder", ladder("", ""), "--prompt-tokens", "5000");
        assertThat(tooLong.err()).contains("more than the gatekeeper's context");
    }

    @Test
    void benchPromptsHaveTheRequestedTokenCount() throws Exception {
        try (var l = dev.gearbox.ladder.Ladder.open(Path.of(ladder("", "")))) {
            var tok = l.gatekeeperModel().tokenizer();
            var random = new java.util.SplittableRandom(1);
            for (int n : new int[] {3, 17, 64, 256}) {
                assertThat(tok.encode(BenchRouterCommand.prompt(tok, n, random), true, false)).hasSize(n);
            }
        }
        assertThat(BenchRouterCommand.percentile(new long[] {1, 2, 3, 4}, 0.5)).isEqualTo(2);
        assertThat(BenchRouterCommand.percentile(new long[] {1, 2, 3, 4}, 0.99)).isEqualTo(4);
    }
}
