package dev.gearbox.server;

import dev.gearbox.Require;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gearbox.ladder.Ladder;
import dev.gearbox.schedule.Scheduler;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The server against a client no one here wrote: the official {@code openai} npm package (6.x,
 * pinned by scripts/npm-client/package-lock.json), streaming and non-streaming, chat and
 * completions. Skips only where node or npm are not installed.
 */
class OpenAiNpmClientTest {
    private static final Path CLIENT = Path.of("scripts", "npm-client");

    private static boolean runs(String... cmd) {
        try {
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            return p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0;
        } catch (IOException | InterruptedException e) {
            return false;
        }
    }

    private static String run(Path dir, long timeoutSeconds, String... cmd) throws Exception {
        Path log = Files.createTempFile("gearbox-npm", ".log");
        try {
            Process p = new ProcessBuilder(cmd).directory(dir.toFile()).redirectErrorStream(false)
                    .redirectOutput(log.toFile()).redirectError(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
            if (!p.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new AssertionError(String.join(" ", cmd) + " ran over " + timeoutSeconds + " s:\n" + Files.readString(log));
            }
            String out = Files.readString(log, StandardCharsets.UTF_8);
            assertThat(p.exitValue()).as(String.join(" ", cmd) + " failed:\n" + out).isZero();
            return out;
        } finally {
            Files.deleteIfExists(log);
        }
    }

    @Test
    void officialOpenAiClientStreamsAndCompletes() throws Exception {
        Require.capability("node", runs("node", "--version") && runs("npm", "--version"), "node and npm are not installed");
        if (!Files.isDirectory(CLIENT.resolve("node_modules/openai"))) {
            run(CLIENT, 300, "npm", "ci", "--no-audit", "--no-fund");
        }
        try (Ladder ladder = Ladder.open(Ladder.defaultPath());
             GearboxServer server = new GearboxServer(new SchedulerEngine(Scheduler.open(ladder)), ladder.maxAnswerTokens(),
                     GearboxServer.Settings.loopback(0))) {
            String out = run(CLIENT, 180, "node", "client.mjs", "http://127.0.0.1:" + server.port() + "/v1");
            String last = out.strip().lines().reduce((a, b) -> b).orElse("");
            JsonNode r = Http.JSON.readTree(last);

            assertThat(r.get("models")).extracting(JsonNode::asText).contains("s", "m", "l", "auto");

            JsonNode chat = r.get("chat");
            assertThat(chat.get("role").asText()).isEqualTo("assistant");
            assertThat(chat.get("finish_reason").asText()).isIn("stop", "length");
            assertThat(chat.get("usage").get("completion_tokens").asInt()).isPositive();
            assertThat(chat.get("header_tier").asText()).isEqualTo(chat.get("gearbox").get("tier").asText());
            assertThat(chat.get("gearbox").get("probabilities").size()).isEqualTo(ladder.tiers().size());

            JsonNode stream = r.get("chat_stream");
            assertThat(stream.get("content").asText()).isEqualTo("64");   // tier l: 12+34 = 46, least significant digit first
            assertThat(stream.get("finish_reason").asText()).isEqualTo("stop");
            assertThat(stream.get("usage").get("completion_tokens").asInt()).isEqualTo(2);
            assertThat(stream.get("header_tier").asText()).isEqualTo("l");

            JsonNode completion = r.get("completion");
            assertThat(completion.get("text").asText()).isEqualTo("64");
            assertThat(completion.get("usage").get("total_tokens").asInt()).isGreaterThan(2);

            JsonNode cstream = r.get("completion_stream");
            assertThat(cstream.get("finish_reason").asText()).isIn("stop", "length");
            assertThat(cstream.get("chunks").asInt()).isGreaterThanOrEqualTo(2);

            JsonNode unknown = r.get("unknown_model");
            assertThat(unknown.get("status").asInt()).isEqualTo(404);
            assertThat(unknown.get("is_not_found").asBoolean()).isTrue();
            assertThat(unknown.get("code").asText()).isEqualTo("model_not_found");
        }
    }

    @Test
    void clientPinsOpenAi6AndCommitsItsLockNotItsModules() throws IOException {
        JsonNode pkg = Http.JSON.readTree(CLIENT.resolve("package.json").toFile());
        assertThat(pkg.get("dependencies").get("openai").asText()).isEqualTo("^6");
        JsonNode lock = Http.JSON.readTree(CLIENT.resolve("package-lock.json").toFile());
        assertThat(lock.get("packages").get("node_modules/openai").get("version").asText()).startsWith("6.");
        assertThat(Files.readAllLines(Path.of(".gitignore"))).anyMatch(l -> List.of("node_modules/", "node_modules").contains(l.strip()));
    }
}
