package dev.gearbox.calibrate;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gearbox.batch.BatchRunner;
import dev.gearbox.ladder.Ladder;
import dev.gearbox.schedule.Hop;
import dev.gearbox.schedule.Result;
import dev.gearbox.schedule.Scheduler;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * One path through the engine: the held-out workload answered by {@code gearbox demo} (what
 * calibration measures) and by {@code gearbox batch} (what a user runs) gives, prompt by prompt, the
 * same answer, the same final tier and the same hops, on the committed default ladder.
 */
class DemoMatchesBatchTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void heldOutWorkloadGivesTheSameAnswersTiersAndHopsThroughDemoAndBatch(@TempDir Path tmp) throws Exception {
        Path ladderFile = DefaultLadderDemoTest.LADDER, data = DefaultLadderDemoTest.HELDOUT;
        Assumptions.assumeTrue(Files.isRegularFile(ladderFile) && Files.isRegularFile(data), "needs the committed default ladder in models/");
        List<TaskRow> rows = Dataset.read(data);
        DemoResult demo = Demo.run(new Demo.Options(ladderFile, data, AnswerCache.disabled(), null));
        assertThat(demo.answers()).hasSize(rows.size());

        Path input = tmp.resolve("in.jsonl"), output = tmp.resolve("out.jsonl");
        List<String> lines = new ArrayList<>();
        int maxTokens;
        try (Ladder ladder = Ladder.open(ladderFile)) {
            maxTokens = ladder.maxAnswerTokens();
        }
        for (TaskRow row : rows) {
            ObjectNode body = JSON.createObjectNode().put("model", "auto").put("prompt", row.text()).put("max_tokens", maxTokens).put("temperature", 0);
            ObjectNode line = JSON.createObjectNode().put("custom_id", row.id()).put("method", "POST").put("url", "/v1/completions");
            line.set("body", body);
            lines.add(JSON.writeValueAsString(line));
        }
        Files.write(input, lines);
        try (Ladder ladder = Ladder.open(ladderFile); Scheduler s = Scheduler.open(ladder)) {
            var summary = new BatchRunner(s).run(input, output, BatchRunner.Progress.NONE);
            assertThat(summary.succeeded()).isEqualTo(rows.size());
        }
        Map<String, JsonNode> byId = new HashMap<>();
        for (String l : Files.readAllLines(output)) {
            JsonNode n = JSON.readTree(l);
            byId.put(n.get("custom_id").asText(), n.at("/response/body"));
        }

        int escalated = 0;
        for (int i = 0; i < rows.size(); i++) {
            String id = rows.get(i).id();
            // What batch serves: routing with experts when the ladder has them, as the demo's second run.
            Result d = (demo.experts() != null ? demo.experts().answers() : demo.answers()).get(i);
            JsonNode b = byId.get(id);
            assertThat(b).as("batch answered %s", id).isNotNull();
            assertThat(b.at("/choices/0/text").asText()).as("answer to %s", id).isEqualTo(d.text());
            assertThat(b.at("/gearbox/tier").asText()).as("routed tier of %s", id).isEqualTo(d.decision().choice());
            assertThat(b.at("/gearbox/final_tier").asText()).as("final tier of %s", id).isEqualTo(d.tier());
            JsonNode hops = b.at("/gearbox/hops");
            assertThat(hops.size()).as("hops of %s", id).isEqualTo(d.hops().size());
            for (int h = 0; h < hops.size(); h++) {
                Hop want = d.hops().get(h);
                assertThat(hops.get(h).get("tier").asText()).isEqualTo(want.tier());
                assertThat(hops.get(h).get("reason").asText()).isEqualTo(want.reason());
                assertThat(hops.get(h).get("tokens_generated").asInt()).isEqualTo(want.tokensGenerated());
                assertThat(hops.get(h).get("start_tokens").asInt()).isEqualTo(want.startTokens());
            }
            if (d.escalated()) escalated++;
        }
        assertThat(escalated).as("escalations, as demo counted them").isEqualTo(demo.experts() != null ? demo.experts().escalations() : demo.escalations());
    }
}
