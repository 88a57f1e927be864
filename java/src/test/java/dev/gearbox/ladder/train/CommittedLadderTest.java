package dev.gearbox.ladder.train;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.gearbox.backend.cpu.CpuBackend;
import dev.gearbox.model.Model;
import dev.gearbox.model.Sequence;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.math.BigInteger;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The default ladder committed under {@code models/}: Gearbox reproduces PyTorch's forward pass on
 * every tier (the proof that training and export agree), the data files are what issue 3 promises,
 * the model card's accuracy is what Gearbox measures, and the ladder file names real tiers.
 */
class CommittedLadderTest {
    static final Path MODELS = Path.of("models");
    static final List<String> TIERS = List.of("s", "m", "l");
    static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void everyTierReproducesPyTorchLogits() throws IOException {
        for (String t : TIERS) {
            JsonNode ref = JSON.readTree(MODELS.resolve("reference/tier-" + t + ".probes.json").toFile());
            assertThat(ref.get("probes").size()).isGreaterThanOrEqualTo(2);
            try (Model model = Model.load(MODELS.resolve("tier-" + t + ".gguf"), new CpuBackend())) {
                for (JsonNode p : ref.get("probes")) {
                    int[] ids = new int[p.get("tokens").size()];
                    for (int i = 0; i < ids.length; i++) ids[i] = p.get("tokens").get(i).asInt();
                    assertThat(model.tokenizer().encode(p.get("text").asText(), true, false)).containsExactly(ids);
                    float[][] want = new float[ids.length][];
                    for (int i = 0; i < ids.length; i++) {
                        JsonNode row = p.get("logits").get(i);
                        want[i] = new float[row.size()];
                        for (int v = 0; v < want[i].length; v++) want[i][v] = (float) row.get(v).asDouble();
                    }
                    try (Sequence seq = model.newSequence(64)) {
                        TierExporterTest.assertClose(seq.forwardAll(ids), want, "tier " + t + " on " + p.get("text").asText());
                    }
                }
            }
        }
    }

    @Test
    void dataFilesAreDisjointBalancedAndCorrect() throws IOException {
        List<TierEvaluator.Row> calib = TierEvaluator.readRows(MODELS.resolve("data/calibration.jsonl"));
        List<TierEvaluator.Row> held = TierEvaluator.readRows(MODELS.resolve("data/heldout.jsonl"));
        for (List<TierEvaluator.Row> rows : List.of(calib, held)) {
            assertThat(rows).hasSizeGreaterThanOrEqualTo(600);
            assertThat(rows.stream().map(TierEvaluator.Row::prompt).distinct().count()).isEqualTo(rows.size());
            assertThat(rows.stream().map(TierEvaluator.Row::id).distinct().count()).isEqualTo(rows.size());
            Map<Integer, Long> perLevel = rows.stream().collect(Collectors.groupingBy(TierEvaluator.Row::level, Collectors.counting()));
            assertThat(perLevel.keySet()).containsExactlyInAnyOrder(1, 2, 3, 4, 5, 6);
            assertThat(perLevel.values()).allSatisfy(n -> assertThat(n).isEqualTo(rows.size() / 6));
            for (TierEvaluator.Row r : rows) assertThat(r.reference()).as(r.prompt()).isEqualTo(solve(r));
        }
        Set<String> calibPrompts = new HashSet<>();
        calib.forEach(r -> calibPrompts.add(r.prompt()));
        assertThat(held).noneMatch(r -> calibPrompts.contains(r.prompt()));
        // Every row also carries "grade": "exact", the contract with calibrate.
        for (String line : Files.readAllLines(MODELS.resolve("data/heldout.jsonl"))) {
            assertThat(JSON.readTree(line).get("grade").asText()).isEqualTo("exact");
        }
    }

    /** The task suite's answers, computed independently of the Python generator. */
    static String solve(TierEvaluator.Row r) {
        String body = r.prompt().substring(r.prompt().indexOf(':') + 1, r.prompt().length() - 1);
        assertThat(r.prompt()).startsWith(r.task() + ":").endsWith("=");
        return switch (r.task()) {
            case "add" -> {
                String[] ab = body.split("\\+");
                assertThat(ab[0]).hasSize(r.level());
                assertThat(ab[1]).hasSize(r.level());
                yield new StringBuilder(new BigInteger(ab[0]).add(new BigInteger(ab[1])).toString()).reverse().toString();
            }
            case "mul" -> {
                String[] ab = body.split("\\*");
                assertThat(ab[0]).hasSize(r.level());
                yield new StringBuilder(new BigInteger(ab[0]).multiply(new BigInteger(ab[1])).toString()).reverse().toString();
            }
            case "rev" -> {
                assertThat(body).hasSize(2 * r.level());
                yield new StringBuilder(body).reverse().toString();
            }
            case "sort" -> {
                assertThat(body).hasSize(2 * r.level());
                char[] c = body.toCharArray();
                java.util.Arrays.sort(c);
                yield new String(c);
            }
            default -> throw new AssertionError("unknown task " + r.task());
        };
    }

    @Test
    void modelCardAccuracyIsWhatGearboxMeasures() throws IOException {
        JsonNode claimed = JSON.readTree(MODELS.resolve("data/heldout-accuracy.json").toFile());
        List<TierEvaluator.Row> held = TierEvaluator.readRows(MODELS.resolve("data/heldout.jsonl"));
        Map<String, Double> all = new HashMap<>();
        for (String t : TIERS) {
            int ok = 0;
            int[] okPerLevel = new int[7], perLevel = new int[7];
            try (Model model = Model.load(MODELS.resolve("tier-" + t + ".gguf"), new CpuBackend()); Sequence seq = model.newSequence(256)) {
                for (TierEvaluator.Row r : held) {
                    boolean right = TierEvaluator.answer(model, seq, r.prompt(), 24).equals(r.reference());
                    ok += right ? 1 : 0;
                    okPerLevel[r.level()] += right ? 1 : 0;
                    perLevel[r.level()]++;
                }
            }
            JsonNode c = claimed.get("tier-" + t);
            assertThat(100.0 * ok / held.size()).as("tier %s overall", t).isCloseTo(c.get("all").asDouble(), org.assertj.core.data.Offset.offset(1e-9));
            for (int l = 1; l <= 6; l++) {
                assertThat(100.0 * okPerLevel[l] / perLevel[l]).as("tier %s level %d", t, l)
                        .isCloseTo(c.get("L" + l).asDouble(), org.assertj.core.data.Offset.offset(1e-9));
            }
            all.put(t, 100.0 * ok / held.size());
        }
        // A ladder: each tier answers more of the held-out prompts than the one below.
        assertThat(all.get("s")).isLessThan(all.get("m"));
        assertThat(all.get("m")).isLessThan(all.get("l"));
    }

    @Test
    void ladderFileNamesTheCommittedTiersSmallestFirst() throws IOException {
        JsonNode y = new ObjectMapper(new YAMLFactory()).readTree(MODELS.resolve("ladder.yaml").toFile());
        assertThat(y.get("name").asText()).isEqualTo("default");
        assertThat(MODELS.resolve(y.get("gatekeeper").get("model").asText())).isRegularFile();
        long previous = 0;
        for (JsonNode tier : y.get("tiers")) {
            Path file = MODELS.resolve(tier.get("model").asText());
            try (Model m = Model.load(file, new CpuBackend())) {
                assertThat(m.config().parameterCount()).as(file.toString()).isGreaterThan(3 * previous);
                previous = m.config().parameterCount();
                assertThat(m.config().contextLength()).isGreaterThanOrEqualTo(tier.get("context").asInt());
            }
        }
        assertThat(y.get("tiers")).hasSize(3);
    }
}
