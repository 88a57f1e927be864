package dev.gearbox.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gearbox.SharedData;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The model-running commands on the real stories260K model. */
class ModelCommandsTest {
    static final ObjectMapper JSON = new ObjectMapper();

    static String model() {
        return SharedData.stories260K().toString();
    }

    @Test
    void benchPrintsAMarkdownTableWithBothTests() {
        CliRun r = CliRun.run("bench", "-m", model(), "-p", "16", "-n", "4", "-r", "2", "-t", "1");
        assertThat(r.exitCode()).as(r.err()).isZero();
        String[] lines = r.out().split("\n");
        assertThat(lines[0]).matches("\\| model +\\| +size \\| +params \\| backend \\| threads \\| +test \\| +t/s \\|");
        assertThat(lines[1]).startsWith("| ---").contains("---: |");
        assertThat(lines[2]).contains("llama").contains("F32").contains("| cpu ").contains("pp16").matches(".*\\d+\\.\\d\\d ± \\d+\\.\\d\\d \\|");
        assertThat(lines[3]).contains("tg4");
        assertThat(r.out()).contains("peak memory (VmHWM)").contains("ppN = one batched prefill");
    }

    @Test
    void benchJsonHasOneEntryPerTest() throws IOException {
        CliRun r = CliRun.run("bench", "-m", model(), "-p", "8,16", "-n", "0", "-r", "1", "-t", "1", "--json", "--no-warmup");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode a = JSON.readTree(r.out());
        assertThat(a.size()).isEqualTo(2);
        assertThat(a.get(0).get("test").asText()).isEqualTo("pp8");
        assertThat(a.get(1).get("n_prompt").asInt()).isEqualTo(16);
        assertThat(a.get(0).get("avg_ts").asDouble()).isPositive();
        assertThat(a.get(0).get("samples_ns")).hasSize(1);
        assertThat(a.get(0).get("model_n_params").asLong()).isPositive();
    }

    @Test
    void benchPutsDecodeBandwidthNextToTheMachinesMeasuredBandwidth(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        System.setProperty("gearbox.cache.home", dir.toString());
        try {
            new dev.gearbox.profile.MachineCeilings(20e9, 1e11, 2, "2026-12-04T23:00:00Z").save();
            CliRun r = CliRun.run("bench", "-m", model(), "-p", "0", "-n", "4", "-r", "1", "-t", "1", "--no-warmup");
            assertThat(r.exitCode()).as(r.err()).isZero();
            assertThat(r.out()).containsPattern("decode bandwidth \\(tg4\\): \\d+\\.\\d GB/s = .* weights per token x \\d+\\.\\d\\d t/s; "
                    + "machine 20\\.0 GB/s \\(profile --calibrate-machine, 2 threads, 2026-12-04T23:00:00Z\\): \\d+\\.\\d%");
            CliRun j = CliRun.run("bench", "-m", model(), "-p", "0", "-n", "4", "-r", "1", "-t", "1", "--no-warmup", "--json");
            JsonNode o = JSON.readTree(j.out()).get(0);
            assertThat(o.get("machine_bandwidth_bytes_per_s").asDouble()).isEqualTo(20e9);
            assertThat(o.get("decode_bandwidth_bytes_per_s").asDouble())
                    .isCloseTo(o.get("decode_weight_bytes_per_token").asLong() * o.get("avg_ts").asDouble(), org.assertj.core.data.Percentage.withPercentage(1e-6));
        } finally {
            System.clearProperty("gearbox.cache.home");
        }
    }

    @Test
    void generateJsonGreedyMatchesLlamaCpp() throws IOException {
        Path m = SharedData.stories260K();
        JsonNode ref = SharedData.referenceJson("once-upon-a-time.gen64.json");
        CliRun r = CliRun.run("generate", "-m", m.toString(), "-p", "Once upon a time", "-n", "64", "--temp", "0", "--json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode o = JSON.readTree(r.out());
        assertThat(o.get("prompt_tokens")).isEqualTo(ref.get("tokens"));
        assertThat(o.get("tokens")).isEqualTo(ref.get("generated_tokens"));
        assertThat(o.get("text").asText()).isEqualTo(ref.get("generated_text").asText());
        assertThat(o.get("logprobs")).hasSize(64);
        assertThat(o.get("stop_reason").asText()).isEqualTo("max_tokens");
        assertThat(o.get("timings").get("prompt_ms").asDouble()).isPositive();
    }

    @Test
    void generateStreamsTextAndStopsAtAStopString() {
        Path m = SharedData.stories260K();
        CliRun r = CliRun.run("generate", "-m", m.toString(), "-p", "Once upon a time", "-n", "64", "--temp", "0", "--stop", "Lily");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo(", there was a little girl named \n");
        assertThat(r.err()).contains("stop: stop_string");
    }

    @Test
    void sameSeedSameTextAtTemperature() {
        Path m = SharedData.stories260K();
        CliRun a = CliRun.run("generate", "-m", m.toString(), "-p", "Once", "-n", "24", "--seed", "5", "--temp", "1.2");
        CliRun b = CliRun.run("generate", "-m", m.toString(), "-p", "Once", "-n", "24", "--seed", "5", "--temp", "1.2");
        assertThat(a.exitCode()).as(a.err()).isZero();
        assertThat(a.out()).isEqualTo(b.out());
    }

    @Test
    void promptFromAFileGivesTheSameTokens(@org.junit.jupiter.api.io.TempDir Path dir) throws IOException {
        Path m = SharedData.stories260K();
        Path prompt = java.nio.file.Files.writeString(dir.resolve("prompt.txt"), "Once upon a time");
        CliRun r = CliRun.run("generate", "-m", m.toString(), "-f", prompt.toString(), "-n", "64", "--temp", "0", "--json");
        assertThat(r.exitCode()).as(r.err()).isZero();
        JsonNode ref = SharedData.referenceJson("once-upon-a-time.gen64.json");
        assertThat(JSON.readTree(r.out()).get("tokens")).isEqualTo(ref.get("generated_tokens"));
        assertThat(CliRun.run("generate", "-m", m.toString(), "-f", prompt.toString(), "-p", "x").exitCode()).isEqualTo(Main.EXIT_USAGE);
        MainTest.assertOneLineError(CliRun.run("generate", "-m", m.toString(), "-f", dir.resolve("none.txt").toString()), "prompt file not found");
    }

    @Test
    void promptLongerThanTheContextIsAClearError() {
        Path m = SharedData.stories260K();
        CliRun r = CliRun.run("generate", "-m", m.toString(), "-p", "Once upon a time there was a dog", "--ctx", "4");
        MainTest.assertOneLineError(r, "longer than the context of 4 tokens");
    }

    @Test
    void tokenizeWorksOnAVocabularyOnlyFileAndParsesSpecialTextUnlessAsked() throws IOException {
        String vocab = SharedData.require("reference/tokenizer/ggml-vocab-llama-spm.gguf").toString();
        CliRun r = CliRun.run("tokenize", "-m", vocab, "Hello world");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.out().strip()).isEqualTo("[1,15043,3186]");
        JsonNode special = JSON.readTree(CliRun.run("tokenize", "-m", vocab, "<s>").out());
        JsonNode plain = JSON.readTree(CliRun.run("tokenize", "-m", vocab, "--no-special", "<s>").out());
        assertThat(special.toString()).isEqualTo("[1,1]");
        assertThat(plain.size()).isGreaterThan(2);
        assertThat(plain.get(1).asInt()).isNotEqualTo(1);
        MainTest.assertOneLineError(CliRun.run("generate", "-m", vocab, "-p", "hi"), "token_embd.weight");
    }

    @Test
    void tokenizePrintsIdsWithBos() throws IOException {
        Path m = SharedData.stories260K();
        JsonNode ref = SharedData.referenceJson("once-upon-a-time.gen64.json");
        CliRun r = CliRun.run("tokenize", "-m", m.toString(), "Once upon a time");
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(JSON.readTree(r.out())).isEqualTo(ref.get("tokens"));
    }
}
