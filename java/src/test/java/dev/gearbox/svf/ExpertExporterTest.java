package dev.gearbox.svf;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.gguf.TensorInfo;
import dev.gearbox.gguf.synth.SyntheticModel;
import dev.gearbox.tensor.GGMLType;
import dev.gearbox.tensor.Quantizer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The trainer's z JSON -> expert file -> SvfExpert.read, the checks on the way, and dense W' copies. */
class ExpertExporterTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    static Path dir;
    static Path model;
    static Path other;
    static String sha;
    static List<String> mlp;
    static Map<String, Integer> ranks = new java.util.LinkedHashMap<>();

    @BeforeAll
    static void models() throws Exception {
        model = dir.resolve("tiny.gguf");
        SyntheticModel.preset("tiny").weightType(GGMLType.F32).seed(11).build().write(model);
        other = dir.resolve("other.gguf");
        SyntheticModel.preset("tiny").weightType(GGMLType.F32).seed(12).build().write(other);
        sha = Checksums.sha256(model);
        try (GGUFFile f = GGUFFile.open(model)) {
            for (TensorInfo t : MatrixSelection.MLP.tensors(f)) ranks.put(t.name(), (int) Math.min(t.dim(0), t.dim(1)));
        }
        mlp = List.copyOf(ranks.keySet());
    }

    /** A z JSON as scripts/train-experts.py writes it, z[i] = value(tensor index, i). */
    static Path zJson(String name, String baseSha, BiFunction<Integer, Integer, Double> value) throws Exception {
        ObjectNode j = JSON.createObjectNode().put("format", "gearbox-svf-z-v1").put("tier", "m").put("task", "add")
                .put("objective", "reinforce").put("matrices", "mlp").put("base_sha256", baseSha).put("training", "a test's z");
        ObjectNode z = j.putObject("z");
        int k = 0;
        for (String t : mlp) {
            ArrayNode a = z.putArray(t);
            for (int i = 0; i < ranks.get(t); i++) a.add(value.apply(k, i));
            k++;
        }
        Path p = dir.resolve(name);
        JSON.writeValue(p.toFile(), j);
        return p;
    }

    @Test
    void exportedExpertReadsBackWithEveryZAndTheModelsChecksum() throws Exception {
        Path json = zJson("z.json", sha, (k, i) -> 0.75 + 0.01 * i - 0.1 * k);
        SvfExpert e = ExpertExporter.fromJson(json, model);
        Path out = SvfExpert.defaultPath(dir, "m", "add");
        Files.createDirectories(out.getParent());
        e.write(out);
        SvfExpert back = SvfExpert.read(out, Checksums.sha256(model));
        assertThat(back.tier()).isEqualTo("m");
        assertThat(back.task()).isEqualTo("add");
        assertThat(back.matrices()).isEqualTo("mlp");
        assertThat(back.training()).isEqualTo("a test's z");
        assertThat(back.baseSha256()).isEqualTo(sha);
        assertThat(back.z().keySet()).containsExactlyElementsOf(mlp);
        int k = 0;
        for (String t : mlp) {
            float[] z = back.z().get(t);
            assertThat(z).hasSize(ranks.get(t));
            for (int i = 0; i < z.length; i++) assertThat(z[i]).isEqualTo((float) (0.75 + 0.01 * i - 0.1 * k));
            k++;
        }
        // Read against another model's checksum: refused, naming both.
        String otherSha = Checksums.sha256(other);
        assertThatThrownBy(() -> SvfExpert.read(out, otherSha)).isInstanceOf(SvfException.class)
                .hasMessageContaining(sha).hasMessageContaining(otherSha);
    }

    @Test
    void zTrainedOnOtherWeightsOrOfTheWrongShapeIsRefused() throws Exception {
        String otherSha = Checksums.sha256(other);
        Path foreign = zJson("foreign.json", otherSha, (k, i) -> 1.0);
        assertThatThrownBy(() -> ExpertExporter.fromJson(foreign, model)).isInstanceOfSatisfying(SvfException.class, e -> {
            assertThat(e.file()).isEqualTo(foreign);
            assertThat(e.getMessage()).contains(sha).contains(otherSha);
        });
        // The same z are accepted for the model they were trained on.
        assertThat(ExpertExporter.fromJson(foreign, other).z()).hasSize(mlp.size());

        Path shortZ = dir.resolve("short.json");
        ObjectNode j = (ObjectNode) JSON.readTree(zJson("ok.json", sha, (k, i) -> 1.0).toFile());
        ((ArrayNode) j.get("z").get(mlp.getFirst())).remove(0);
        JSON.writeValue(shortZ.toFile(), j);
        assertThatThrownBy(() -> ExpertExporter.fromJson(shortZ, model)).isInstanceOf(SvfException.class)
                .hasMessageContaining(mlp.getFirst()).hasMessageContaining("singular values");

        Path missing = dir.resolve("missing.json");
        ((ObjectNode) j.get("z")).remove(mlp.getLast());
        JSON.writeValue(missing.toFile(), j);
        assertThatThrownBy(() -> ExpertExporter.fromJson(missing, model)).isInstanceOf(SvfException.class).hasMessageContaining("adapts");
    }

    @Test
    void denseCopyReplacesExactlyTheAdaptedMatrices() throws Exception {
        Path sidecar = dir.resolve("tiny.svf.gguf");
        SvfDecomposer.write(model, "m", MatrixSelection.MLP, sidecar, n -> { });
        Path json = zJson("dense.json", sha, (k, i) -> i == 0 ? 0.2 : 1.3);
        SvfExpert e = ExpertExporter.fromJson(json, model);
        Path identityOut = dir.resolve("identity.gguf");
        Path adaptedOut = dir.resolve("adapted.gguf");
        try (SvfFactors f = SvfFactors.open(sidecar, model)) {
            ExpertExporter.writeDense(model, f, SvfExpert.identity(f, "m", "add", "z = 1"), identityOut);
            ExpertExporter.writeDense(model, f, e, adaptedOut);
        }
        try (GGUFFile base = GGUFFile.open(model); GGUFFile id = GGUFFile.open(identityOut); GGUFFile ad = GGUFFile.open(adaptedOut)) {
            assertThat(id.tensors().keySet()).containsExactlyElementsOf(base.tensors().keySet());
            for (TensorInfo t : base.tensorList()) {
                float[] w = values(base, t), wi = values(id, id.tensor(t.name())), wa = values(ad, ad.tensor(t.name()));
                if (!ranks.containsKey(t.name())) {
                    assertThat(wa).as(t.name()).containsExactly(w);
                    continue;
                }
                // z = 1 rebuilds the matrix; the expert's z (first singular value shrunk) changes it.
                double max = 0, diffId = 0, diffAd = 0;
                for (int i = 0; i < w.length; i++) {
                    max = Math.max(max, Math.abs(w[i]));
                    diffId = Math.max(diffId, Math.abs(w[i] - wi[i]));
                    diffAd = Math.max(diffAd, Math.abs(w[i] - wa[i]));
                }
                assertThat(diffId / max).as(t.name()).isLessThan(1e-5);
                assertThat(diffAd / max).as(t.name()).isGreaterThan(1e-2);
            }
        }
    }

    static float[] values(GGUFFile f, TensorInfo t) {
        assertThat(t.type()).isEqualTo(GGMLType.F32);
        float[] v = new float[Math.toIntExact(t.elementCount())];
        Quantizer.dequantize(GGMLType.F32, f.data(t), v, 0, v.length);
        return v;
    }
}
