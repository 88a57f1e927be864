package dev.gearbox.batch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gearbox.cli.CliRunner;
import dev.gearbox.ladder.Ladder;
import dev.gearbox.schedule.SequentialLadder;
import dev.gearbox.ladder.TestLadders;
import dev.gearbox.router.Router;
import dev.gearbox.schedule.Scheduler;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code gearbox batch}: OpenAI's output format, answers as the engine gives them, bad lines, resume after a crash. */
class BatchRunnerTest {
    static final ObjectMapper JSON = new ObjectMapper();
    static final Path DEFAULT_LADDER = Path.of("models/ladder.yaml");

    @TempDir
    Path dir;

    /** Request lines from the held-out prompts: chat and completion bodies alternately, greedy. */
    static List<String> requestLines(int n) throws Exception {
        List<String> out = new ArrayList<>();
        List<String> rows = Files.readAllLines(Path.of("models/data/heldout.jsonl"));
        for (int i = 0; i < n; i++) {
            String prompt = JSON.readTree(rows.get(i)).get("prompt").asText();
            ObjectNode line = JSON.createObjectNode();
            line.put("custom_id", "req-" + i);
            line.put("method", "POST");
            ObjectNode body = line.putObject("body");
            body.put("model", i % 5 == 4 ? "l" : "auto");
            body.put("temperature", 0);
            body.put("max_tokens", 24);
            if (i % 2 == 0) {
                line.put("url", "/v1/chat/completions");
                body.putArray("messages").addObject().put("role", "user").put("content", prompt);
            } else {
                line.put("url", "/v1/completions");
                body.put("prompt", prompt);
            }
            out.add(JSON.writeValueAsString(line));
        }
        return out;
    }

    static final List<String> BAD = List.of(
            "{not json",
            "{\"method\":\"POST\",\"url\":\"/v1/completions\",\"body\":{\"prompt\":\"x\"}}",
            "{\"custom_id\":\"bad-url\",\"method\":\"POST\",\"url\":\"/v1/embeddings\",\"body\":{\"input\":\"x\"}}",
            "{\"custom_id\":\"bad-temp\",\"method\":\"POST\",\"url\":\"/v1/completions\",\"body\":{\"prompt\":\"x\",\"temperature\":7}}",
            "{\"custom_id\":\"bad-model\",\"method\":\"POST\",\"url\":\"/v1/completions\",\"body\":{\"prompt\":\"x\",\"model\":\"gpt-9\"}}",
            "{\"custom_id\":\"no-messages\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"messages\":[]}}");

    static List<JsonNode> readOutput(Path out) throws Exception {
        List<JsonNode> lines = new ArrayList<>();
        for (String l : Files.readAllLines(out)) lines.add(JSON.readTree(l));
        return lines;
    }

    @Test
    void defaultLadderAnswersLikeTheEngineInOpenAiFormatAndResumesAfterACrash() throws Exception {
        Assumptions.assumeTrue(Files.isRegularFile(DEFAULT_LADDER), "needs the committed models/ladder.yaml");
        List<String> good = requestLines(24);
        List<String> all = new ArrayList<>(good);
        all.addAll(3, BAD);
        Path in = dir.resolve("in.jsonl"), out = dir.resolve("out.jsonl");
        try (Ladder ladder = Ladder.open(DEFAULT_LADDER); SequentialLadder engine = new SequentialLadder(ladder)) {
            // first run over the first half of the input, then a crash mid-line
            Files.write(in, all.subList(0, 15));
            try (Scheduler s = Scheduler.open(ladder)) {
                BatchRunner.Summary first = new BatchRunner(s).run(in, out, BatchRunner.Progress.NONE);
                assertThat(first.total()).isEqualTo(15);
                assertThat(first.skipped()).isZero();
            }
            byte[] bytes = Files.readAllBytes(out);
            byte[] cut = java.util.Arrays.copyOf(bytes, bytes.length - 40);   // the last line is now partial
            Files.write(out, cut);
            String lost = new String(bytes, StandardCharsets.UTF_8).lines().toList().getLast();

            Files.write(in, all);
            BatchRunner.Summary second;
            try (Scheduler s = Scheduler.open(ladder, Scheduler.Options.defaults().withQueueCapacity(2))) {
                second = new BatchRunner(s).run(in, out, BatchRunner.Progress.NONE);
            }
            assertThat(second.repairedBytes()).isEqualTo(lost.length() + 1 - 40);
            assertThat(second.total()).isEqualTo(all.size());
            assertThat(second.skipped()).isEqualTo(14);
            assertThat(second.succeeded() + second.failed()).isEqualTo(all.size() - 14);

            List<JsonNode> lines = readOutput(out);
            assertThat(lines).hasSize(all.size());   // one line per input line: none lost, none duplicated
            Map<String, JsonNode> byId = new HashMap<>();
            Set<Integer> errorLineNumbers = new HashSet<>();
            for (JsonNode l : lines) {
                assertThat(l.get("id").asText()).startsWith("batch_req_");
                assertThat(l.has("custom_id") && l.has("response") && l.has("error")).isTrue();
                if (l.get("custom_id").isNull()) {
                    assertThat(errorLineNumbers.add(l.get("error").get("line").asInt())).isTrue();
                    assertThat(l.get("response").isNull()).isTrue();
                } else {
                    assertThat(byId.put(l.get("custom_id").asText(), l)).as("duplicate " + l.get("custom_id")).isNull();
                }
            }
            assertThat(errorLineNumbers).containsExactlyInAnyOrder(4, 5);
            assertThat(byId.get("bad-url").at("/response/status_code").asInt()).isEqualTo(400);
            assertThat(byId.get("bad-url").at("/response/body/error/message").asText()).contains("unsupported url '/v1/embeddings'");
            assertThat(byId.get("bad-temp").at("/response/body/error/param").asText()).isEqualTo("temperature");
            assertThat(byId.get("bad-model").at("/response/body/error/message").asText()).contains("unknown model 'gpt-9'");
            assertThat(byId.get("no-messages").at("/response/body/error/code").asText()).isEqualTo("invalid_value");
            assertThat(errorLineNumbers).isNotEmpty();

            List<String> prompts = Files.readAllLines(Path.of("models/data/heldout.jsonl"));
            for (int i = 0; i < good.size(); i++) {
                JsonNode l = byId.get("req-" + i);
                assertThat(l).as("req-" + i).isNotNull();
                assertThat(l.get("error").isNull()).isTrue();
                JsonNode resp = l.get("response");
                assertThat(resp.get("status_code").asInt()).isEqualTo(200);
                assertThat(resp.get("request_id").asText()).startsWith("req_");
                JsonNode body = resp.get("body");
                String prompt = JSON.readTree(prompts.get(i)).get("prompt").asText();
                boolean chat = i % 2 == 0;
                assertThat(body.get("object").asText()).isEqualTo(chat ? "chat.completion" : "text_completion");
                String text = chat ? body.at("/choices/0/message/content").asText() : body.at("/choices/0/text").asText();
                assertThat(body.at("/choices/0/message/role").asText()).isEqualTo(chat ? "assistant" : "");
                var want = i % 5 == 4 ? engine.runTier("l", prompt) : engine.run(prompt, new SequentialLadder.Options(null, 24, true));
                assertThat(text.trim()).as(prompt).isEqualTo(want.text().trim());
                assertThat(body.get("model").asText()).isEqualTo(want.finalTier());
                assertThat(body.at("/usage/completion_tokens").asInt()).isEqualTo(want.tokens().length);
                assertThat(body.at("/usage/total_tokens").asInt())
                        .isEqualTo(body.at("/usage/prompt_tokens").asInt() + body.at("/usage/completion_tokens").asInt());
                assertThat(body.at("/choices/0/finish_reason").asText()).isIn("stop", "length");
                assertThat(body.at("/gearbox/tier").asText()).isEqualTo(want.decision().choice());
                assertThat(body.at("/gearbox/final_tier").asText()).isEqualTo(want.finalTier());
                assertThat(body.at("/gearbox/hops").size()).isEqualTo(want.hops().size());
            }
        }
    }

    @Test
    void cliRunsSyntheticTiersAndARerunSkipsEverything() throws Exception {
        Path yaml = TestLadders.ladder(dir, "", "");
        Path in = dir.resolve("in.jsonl"), out = dir.resolve("out.jsonl");
        List<String> lines = new ArrayList<>();
        for (int i = 0; i < 12; i++) {
            lines.add("{\"custom_id\":\"c" + i + "\",\"method\":\"POST\",\"url\":\"/v1/completions\",\"body\":{\"model\":\""
                    + List.of("s", "m", "l", "auto").get(i % 4) + "\",\"prompt\":\"p" + i + "\",\"max_tokens\":5,\"seed\":" + i + "}}");
        }
        lines.add("");
        lines.add("[1,2]");
        Files.write(in, lines);
        CliRunner.Result r = CliRunner.run("batch", "--ladder", yaml.toString(), in.toString(), out.toString());
        assertThat(r.exitCode()).as(r.err()).isZero();
        assertThat(r.err()).contains("13 lines, 0 already in").contains("12 answered, 1 error lines").contains("13/13");
        List<JsonNode> first = readOutput(out);
        assertThat(first).hasSize(13);
        for (JsonNode l : first) {
            if (l.get("custom_id").isNull()) {
                assertThat(l.at("/error/code").asText()).isEqualTo("invalid_json");
            } else {
                assertThat(l.at("/response/body/usage/completion_tokens").asInt()).isBetween(0, 5);
            }
        }
        CliRunner.Result again = CliRunner.run("batch", "--ladder", yaml.toString(), in.toString(), out.toString());
        assertThat(again.exitCode()).as(again.err()).isZero();
        assertThat(again.err()).contains("13 lines, 13 already in");
        assertThat(readOutput(out)).hasSize(13);
    }
}
