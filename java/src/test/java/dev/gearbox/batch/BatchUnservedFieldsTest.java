package dev.gearbox.batch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gearbox.ladder.Ladder;
import dev.gearbox.schedule.Scheduler;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** Fields a batch job does not serve yet get an error line naming them, never an answer that ignored them. */
class BatchUnservedFieldsTest {
    @Test
    void toolsStructuredOutputsAndLogprobsAreErrorLinesNamingTheField(@TempDir Path dir) throws Exception {
        Path ladderFile = Path.of("models", "ladder.yaml");
        Assumptions.assumeTrue(Files.isRegularFile(ladderFile), "needs the committed default ladder");
        String msg = "\"messages\":[{\"role\":\"user\",\"content\":\"add:1+2=\"}]";
        Path in = dir.resolve("in.jsonl"), out = dir.resolve("out.jsonl");
        Files.write(in, List.of(
                "{\"custom_id\":\"ok\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"s\"," + msg + ",\"response_format\":{\"type\":\"text\"}}}",
                "{\"custom_id\":\"rf\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"s\"," + msg + ",\"response_format\":{\"type\":\"json_object\"}}}",
                "{\"custom_id\":\"tools\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"s\"," + msg
                        + ",\"tools\":[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]}}",
                "{\"custom_id\":\"lp\",\"method\":\"POST\",\"url\":\"/v1/chat/completions\",\"body\":{\"model\":\"s\"," + msg + ",\"logprobs\":true}}"));
        try (Ladder ladder = Ladder.open(ladderFile); Scheduler s = Scheduler.open(ladder)) {
            new BatchRunner(s).run(in, out, BatchRunner.Progress.NONE);
        }
        ObjectMapper json = new ObjectMapper();
        Map<String, JsonNode> byId = new HashMap<>();
        for (String l : Files.readAllLines(out)) {
            JsonNode n = json.readTree(l);
            byId.put(n.get("custom_id").asText(), n.get("response"));
        }
        assertThat(byId.get("ok").get("status_code").asInt()).isEqualTo(200);
        for (String[] c : new String[][] {{"rf", "response_format"}, {"tools", "tools"}, {"lp", "logprobs"}}) {
            JsonNode r = byId.get(c[0]);
            assertThat(r.get("status_code").asInt()).as(c[0]).isEqualTo(400);
            assertThat(r.at("/body/error/param").asText()).isEqualTo(c[1]);
            assertThat(r.at("/body/error/message").asText()).contains("not supported in batch");
        }
    }
}
