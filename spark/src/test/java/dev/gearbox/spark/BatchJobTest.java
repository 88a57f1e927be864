package dev.gearbox.spark;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gearbox.batch.BatchRunner;
import dev.gearbox.ladder.Ladder;
import dev.gearbox.schedule.Scheduler;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;

import static dev.gearbox.spark.BatchOutputLines.JSON;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The Spark batch job: the same output lines as {@code gearbox batch}, bad lines included, and no duplicates when a task is re-run. */
class BatchJobTest {
    static final Path LADDER = Path.of("models/ladder.yaml");

    @TempDir
    Path dir;

    /** Held-out prompts as batch lines: chat and completion alternately, some forced to tier l, greedy. */
    static List<String> requestLines(int n) throws Exception {
        List<String> out = new ArrayList<>();
        List<String> rows = Files.readAllLines(Path.of("models/data/heldout.jsonl"));
        for (int i = 0; i < n; i++) {
            String prompt = JSON.readTree(rows.get(i)).get("prompt").asText();
            ObjectNode line = JSON.createObjectNode();
            line.put("custom_id", "req-" + i);
            line.put("method", "POST");
            ObjectNode body = line.putObject("body");
            body.put("model", i % 7 == 6 ? "l" : "auto");
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

    /** Good lines with bad ones among them: not JSON, no custom_id, a bad url, a repeated custom_id (good and bad), a blank line. */
    static List<String> mixedInput() throws Exception {
        List<String> lines = new ArrayList<>(requestLines(48));
        lines.add(5, "{not json");
        lines.add(9, "{\"method\":\"POST\",\"url\":\"/v1/completions\",\"body\":{\"prompt\":\"x\"}}");
        lines.add(12, "{\"custom_id\":\"bad-url\",\"method\":\"POST\",\"url\":\"/v1/embeddings\",\"body\":{\"input\":\"x\"}}");
        lines.add(20, "");
        lines.add(30, "{\"custom_id\":\"bad-temp\",\"method\":\"POST\",\"url\":\"/v1/completions\",\"body\":{\"prompt\":\"x\",\"temperature\":7}}");
        lines.add(lines.get(3));                       // req-? repeated: the later one is an error line
        lines.add(lines.get(12));                      // bad-url repeated
        return lines;
    }

    @Test
    void answersExactlyAsGearboxBatchDoes() throws Exception {
        Path input = dir.resolve("in.jsonl");
        Files.write(input, mixedInput());
        Path batchOut = dir.resolve("batch-out.jsonl");
        try (Ladder ladder = Ladder.open(LADDER); Scheduler s = Scheduler.open(ladder)) {
            new BatchRunner(s).run(input, batchOut, BatchRunner.Progress.NONE);   // what `gearbox batch` runs
        }
        Path sparkOut = dir.resolve("spark-out");
        // queue 63: a scheduler of its own on the executor (no other test uses that size), as fresh as gearbox batch's
        long n = BatchJob.run(SparkTestSession.get(), new BatchJob.Options(input.toString(), sparkOut.toString(), LADDER.toString(), 3, 63, false));

        TreeMap<String, String> expected = BatchOutputLines.normalized(BatchOutputLines.read(batchOut));
        TreeMap<String, String> got = BatchOutputLines.normalized(BatchOutputLines.read(sparkOut));
        assertThat(expected).hasSize(48 + 6);        // 48 answers, 4 bad lines, 2 repeats; the blank line has none
        assertThat(n).isEqualTo(expected.size());
        assertThat(got.keySet()).isEqualTo(expected.keySet());
        // Equal byte for byte, or, where the prefix cache held a different part of the prompt (the
        // executor's scheduler has answered other tests' requests), equal in all else.
        TreeMap<String, String> expectedAnswers = BatchOutputLines.normalized(BatchOutputLines.read(batchOut), false);
        TreeMap<String, String> gotAnswers = BatchOutputLines.normalized(BatchOutputLines.read(sparkOut), false);
        var expectedP = BatchOutputLines.probabilities(BatchOutputLines.read(batchOut));
        var gotP = BatchOutputLines.probabilities(BatchOutputLines.read(sparkOut));
        for (String k : expected.keySet()) {
            assertThat(gotP.get(k).keySet()).as(k).isEqualTo(expectedP.get(k).keySet());
            for (String t : expectedP.get(k).keySet()) assertThat(gotP.get(k).get(t)).as(k + " P(" + t + ")").isCloseTo(expectedP.get(k).get(t), org.assertj.core.data.Offset.offset(1e-6));
            if (got.get(k).equals(expected.get(k))) continue;
            assertThat(gotAnswers.get(k)).as(k).isEqualTo(expectedAnswers.get(k));
            assertThat(cachedTokens(got.get(k))).as(k + ": differs only where the cache did").isNotEqualTo(cachedTokens(expected.get(k)));
        }
        assertThat(got.values()).filteredOn(v -> v.contains("duplicate_custom_id")).hasSize(2);
        assertThat(got.values()).filteredOn(v -> v.contains("\"status_code\":200")).hasSize(48);
    }

    static int cachedTokens(String line) throws Exception {
        return JSON.readTree(line).path("response").path("body").path("usage").path("prompt_tokens_details").path("cached_tokens").asInt(-1);
    }

    @Test
    void aTaskThatFailsOnceIsRerunAndWritesEachCustomIdOnce() throws Exception {
        Path input = dir.resolve("in.jsonl");
        List<String> lines = requestLines(24);
        Files.write(input, lines);
        SparkSession spark = SparkTestSession.get();
        int before = BatchJob.INJECTED_FAILURES.get();
        spark.conf().set(BatchJob.FAIL_ONCE, "true");
        try {
            Path out = dir.resolve("out");
            BatchJob.run(spark, new BatchJob.Options(input.toString(), out.toString(), LADDER.toString(), 2, 64, false));
            assertThat(BatchJob.INJECTED_FAILURES.get()).as("the first attempt of partition 0 failed").isEqualTo(before + 1);
            List<String> written = BatchOutputLines.read(out);
            List<String> ids = new ArrayList<>();
            for (String l : written) ids.add(JSON.readTree(l).get("custom_id").asText());
            assertThat(ids).doesNotHaveDuplicates().hasSize(lines.size());
            assertThat(written).allMatch(l -> l.contains("\"status_code\":200"));
        } finally {
            spark.conf().unset(BatchJob.FAIL_ONCE);
        }
    }

    @Test
    void badArgumentsAndAnExistingOutputAreClearErrors() throws Exception {
        assertThatThrownBy(() -> BatchJob.Options.parse(new String[] {"in.jsonl"}))
                .hasMessageContaining("expected INPUT.jsonl and OUTPUT_DIR");
        assertThatThrownBy(() -> BatchJob.Options.parse(new String[] {"a", "b", "--partitions", "two"}))
                .hasMessageContaining("--partitions must be an integer, got 'two'");
        assertThatThrownBy(() -> BatchJob.Options.parse(new String[] {"a", "b", "--bogus"})).hasMessageContaining("unknown option --bogus");
        assertThat(BatchJob.Options.parse(new String[] {"a", "b", "--ladder", "l.yaml", "--overwrite"}))
                .isEqualTo(new BatchJob.Options("a", "b", "l.yaml", 0, 64, true));

        Path missing = dir.resolve("no-such.jsonl");
        assertThatThrownBy(() -> BatchJob.run(SparkTestSession.get(), new BatchJob.Options(missing.toString(), dir.resolve("o").toString(), LADDER.toString(), 0, 64, false)))
                .hasMessageContaining("no-such.jsonl");
        Path input = dir.resolve("in.jsonl");
        Files.write(input, requestLines(2));
        Path existing = Files.createDirectories(dir.resolve("exists"));
        assertThatThrownBy(() -> BatchJob.run(SparkTestSession.get(), new BatchJob.Options(input.toString(), existing.toString(), LADDER.toString(), 0, 64, false)))
                .hasMessageContaining("already exists");
    }
}
