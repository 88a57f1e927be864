package dev.gearbox.ladder.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gearbox.backend.cpu.CpuBackend;
import dev.gearbox.generate.GenerationResult;
import dev.gearbox.generate.Generator;
import dev.gearbox.generate.LogitSource;
import dev.gearbox.model.Model;
import dev.gearbox.model.Sequence;
import dev.gearbox.sample.SamplingParams;

import java.io.BufferedWriter;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Answers task rows with a tier the way the ladder does (issue 3): the prompt with BOS, greedy
 * generation until an end-of-generation token or {@code maxTokens}, the answer is the text trimmed.
 * Used by {@code scripts/train-ladder.sh} to measure the accuracy that the model card reports.
 *
 * <p>Usage: {@code java -cp gearbox.jar dev.gearbox.ladder.train.TierEvaluator ROWS.jsonl OUT.jsonl MODEL.gguf...};
 * OUT gets one {@code {"tier", "id", "answer", "correct"}} line per row and model.
 */
public final class TierEvaluator {
    private static final ObjectMapper JSON = new ObjectMapper();

    /** One task row as train writes them: id, task, level, prompt, reference. */
    public record Row(String id, String task, int level, String prompt, String reference) {}

    private TierEvaluator() {}

    public static List<Row> readRows(Path path) throws IOException {
        List<Row> rows = new ArrayList<>();
        int lineNo = 0;
        for (String line : Files.readAllLines(path)) {
            lineNo++;
            if (line.isBlank()) continue;
            JsonNode j;
            try {
                j = JSON.readTree(line);
            } catch (IOException e) {
                throw new IOException(path + ":" + lineNo + ": not JSON: " + e.getMessage(), e);
            }
            if (!j.path("prompt").isTextual() || !j.path("id").isTextual()) {
                throw new IOException(path + ":" + lineNo + ": a row needs string fields 'id' and 'prompt'");
            }
            rows.add(new Row(j.get("id").asText(), j.path("task").asText(""), j.path("level").asInt(0),
                    j.get("prompt").asText(), j.path("reference").isTextual() ? j.get("reference").asText() : null));
        }
        return rows;
    }

    /** The tier's greedy answer to {@code prompt}, trimmed. */
    public static String answer(Model model, Sequence seq, String prompt, int maxTokens) {
        seq.truncate(0);
        int[] ids = model.tokenizer().encode(prompt, true, false);
        GenerationResult r = new Generator(model.tokenizer()).generate(LogitSource.of(seq), ids,
                SamplingParams.greedy().toBuilder().maxTokens(maxTokens).build(), Generator.TextListener.NONE);
        return r.text().trim();
    }

    public static void main(String[] args) throws IOException {
        if (args.length < 3) {
            System.err.println("usage: TierEvaluator ROWS.jsonl OUT.jsonl MODEL.gguf [MODEL.gguf ...]");
            System.exit(2);
        }
        List<Row> rows = readRows(Path.of(args[0]));
        try (BufferedWriter out = Files.newBufferedWriter(Path.of(args[1]))) {
            for (int i = 2; i < args.length; i++) {
                Path file = Path.of(args[i]);
                String tier = file.getFileName().toString().replaceFirst("\\.gguf$", "");
                Map<Integer, int[]> perLevel = new TreeMap<>();
                long t0 = System.nanoTime();
                try (Model model = Model.load(file, new CpuBackend()); Sequence seq = model.newSequence(model.config().contextLength())) {
                    for (Row row : rows) {
                        String ans = answer(model, seq, row.prompt(), 24);
                        boolean ok = ans.equals(row.reference());
                        ObjectNode o = JSON.createObjectNode().put("tier", tier).put("id", row.id()).put("answer", ans).put("correct", ok);
                        out.write(JSON.writeValueAsString(o));
                        out.newLine();
                        int[] c = perLevel.computeIfAbsent(row.level(), k -> new int[2]);
                        c[0] += ok ? 1 : 0;
                        c[1]++;
                    }
                }
                StringBuilder sb = new StringBuilder(tier + ":");
                int ok = 0;
                for (var e : perLevel.entrySet()) {
                    sb.append(String.format(" L%d %.0f%%", e.getKey(), 100.0 * e.getValue()[0] / e.getValue()[1]));
                    ok += e.getValue()[0];
                }
                sb.append(String.format(" | all %.1f%% (%d rows, %.1f s)", 100.0 * ok / rows.size(), rows.size(), (System.nanoTime() - t0) / 1e9));
                System.out.println(sb);
            }
        }
    }
}
