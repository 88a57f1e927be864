package dev.gearbox.calibrate;

import dev.gearbox.svf.MatrixSelection;
import dev.gearbox.svf.SvfDecomposer;
import dev.gearbox.svf.SvfExpert;
import dev.gearbox.svf.SvfFactors;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.IntFunction;

/**
 * Test ladders over the committed default tiers (models/tier-*.gguf, read in place) with experts
 * made in the test: independent of whatever experts models/ladder.yaml names.
 */
final class ExpertLadders {
    static final Path MODELS = Path.of("models").toAbsolutePath();

    private ExpertLadders() {}

    static boolean available() {
        return Files.exists(MODELS.resolve("tier-s.gguf")) && Files.exists(MODELS.resolve("data/heldout.jsonl"));
    }

    /** The MLP factors of a default tier, decomposed into {@code dir}. */
    static SvfFactors factors(Path dir, String tier) throws IOException {
        Path model = MODELS.resolve("tier-" + tier + ".gguf");
        Path sidecar = dir.resolve("tier-" + tier + ".svf.gguf");
        if (!Files.exists(sidecar)) SvfDecomposer.write(model, tier, MatrixSelection.MLP, sidecar, n -> { });
        return SvfFactors.open(sidecar, model);
    }

    /** An expert whose z for component i of every matrix is {@code z.apply(i)}. */
    static SvfExpert expert(SvfFactors f, String tier, String task, IntFunction<Float> z) {
        Map<String, float[]> m = new LinkedHashMap<>();
        for (String t : f.tensorNames()) {
            float[] v = new float[f.shape(t).rank()];
            for (int i = 0; i < v.length; i++) v[i] = z.apply(i);
            m.put(t, v);
        }
        return new SvfExpert(tier, f.baseSha256(), task, "mlp", "test", m, null);
    }

    /** A z that wrecks a tier: every singular value but the largest few silenced, the energy moved to them. */
    static float wrecking(int i) {
        return i < 3 ? 1f : 0f;
    }

    /**
     * Writes {@code dir/ladder.yaml}: the default ladder's three tiers (by absolute path), with
     * {@code experts} per tier name ({@code task: file}) and the sidecars in {@code dir}.
     */
    static Path ladder(Path dir, Map<String, Map<String, Path>> experts, String extraTierFields) throws IOException {
        StringBuilder y = new StringBuilder("name: experts-test\ngatekeeper: {model: ").append(MODELS.resolve("tier-s.gguf")).append("}\n")
                .append("max_answer_tokens: 24\ntiers:\n");
        for (String t : new String[] {"s", "m", "l"}) {
            y.append("  - {name: ").append(t).append(", model: ").append(MODELS.resolve("tier-" + t + ".gguf"))
                    .append(", context: 256, max_sequences: 8");
            if (!t.equals("l")) y.append(", escalate: {window: 4, min_mean_logprob: -0.5}");
            Map<String, Path> e = experts.get(t);
            if (e != null && !e.isEmpty()) {
                y.append(", svf_factors: ").append(dir.resolve("tier-" + t + ".svf.gguf"));
                y.append(", experts: {");
                int k = 0;
                for (var x : e.entrySet()) y.append(k++ > 0 ? ", " : "").append(x.getKey()).append(": ").append(x.getValue());
                y.append("}");
            }
            if (extraTierFields != null && !extraTierFields.isEmpty()) y.append(", ").append(extraTierFields);
            y.append("}\n");
        }
        Path file = dir.resolve("ladder.yaml");
        Files.writeString(file, y.toString());
        return file;
    }
}
