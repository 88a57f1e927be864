package dev.gearbox.ladder.train;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gearbox.backend.cpu.CpuBackend;
import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.model.Model;
import dev.gearbox.model.Sequence;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The exporter on a tiny random model that {@code scripts/train-ladder.py fixture} saved together
 * with PyTorch's logits: the GGUF Gearbox loads must give the same logits, so names, shapes,
 * byte order, rope mode, norms and the vocabulary are all as the trainer meant them.
 */
class TierExporterTest {
    static Path manifestPath;
    static TierManifest manifest;
    @TempDir static Path dir;

    @BeforeAll
    static void load() throws IOException {
        // Written by: scripts/train-ladder.py --work java/src/test/data/ladder-fixture fixture
        manifestPath = Path.of("java/src/test/data/ladder-fixture/fixture.manifest.json");
        manifest = TierManifest.read(manifestPath);
    }

    @Test
    void exportedModelReproducesPyTorchLogits() throws IOException {
        Path gguf = dir.resolve("fixture.gguf");
        TierExporter.export(manifest, gguf);
        assertThat(manifest.probes()).hasSizeGreaterThanOrEqualTo(2);
        try (Model model = Model.load(gguf, new CpuBackend())) {
            assertThat(model.config().parameterCount()).isEqualTo(15696);
            for (TierManifest.Probe p : manifest.probes()) {
                // Gearbox's tokenizer splits the text as the trainer did, BOS first.
                assertThat(model.tokenizer().encode(p.text(), true, false)).as(p.text()).containsExactly(p.tokens());
                try (Sequence seq = model.newSequence(64)) {
                    float[][] logits = seq.forwardAll(p.tokens());
                    assertClose(logits, p.logits(), p.text());
                }
            }
        }
    }

    static void assertClose(float[][] got, float[][] want, String what) {
        assertThat(got.length).isEqualTo(want.length);
        double worst = 0;
        for (int i = 0; i < got.length; i++) {
            assertThat(got[i]).hasSameSizeAs(want[i]);
            for (int v = 0; v < got[i].length; v++) worst = Math.max(worst, Math.abs(got[i][v] - want[i][v]));
        }
        assertThat(worst).as("%s: largest logit difference to PyTorch", what).isLessThan(1e-4);
    }

    @Test
    void writesLlamaMetadataAndCharVocabulary() throws IOException {
        Path gguf = dir.resolve("meta.gguf");
        TierExporter.export(manifest, gguf);
        try (GGUFFile f = GGUFFile.open(gguf)) {
            assertThat(f.requireString("general.architecture")).isEqualTo("llama");
            assertThat(f.requireString("tokenizer.ggml.model")).isEqualTo("llama");
            assertThat(f.getBool("tokenizer.ggml.add_space_prefix", true)).isFalse();
            assertThat(f.getBool("tokenizer.ggml.add_bos_token", false)).isTrue();
            long[] types = f.getLongs("tokenizer.ggml.token_type");
            assertThat(types[0]).isEqualTo(2);
            assertThat(types[1]).isEqualTo(3);
            assertThat(types[2]).isEqualTo(3);
            assertThat(types[3]).isEqualTo(6);
            assertThat(types[258]).isEqualTo(6);
            assertThat(types[259]).isEqualTo(1);
            assertThat(f.getStrings("tokenizer.ggml.tokens")[3]).isEqualTo("<0x00>");
            assertThat(f.tensor("blk.0.ffn_gate.weight").shape()).containsExactly(16, 40);
            assertThat(f.tensor("output.weight").shape()).containsExactly(16, manifest.tokens().size());
        }
        try (Model model = Model.load(gguf, new CpuBackend())) {
            // Characters outside the vocabulary fall back to byte tokens; a space is U+2581.
            int[] ids = model.tokenizer().encode("A b", false, false);
            assertThat(ids).containsExactly(3 + 'A', manifest.tokens().indexOf("\u2581"), manifest.tokens().indexOf("b"));
            assertThat(model.tokenizer().decode(ids)).isEqualTo("A b");
        }
    }

    @Test
    void rejectsManifestsThatDoNotDescribeTheModel() throws IOException {
        expectError(j -> ((ObjectNode) j.withArray("tensors").get(1)).putArray("shape").add(16).add(17),
                "attn_norm.weight: shape [16, 17], expected [16]");
        expectError(j -> j.withArray("tensors").remove(j.withArray("tensors").size() - 1), "tensor 'output.weight' is missing");
        expectError(j -> j.put("embedding_length", 15), "not a multiple of head_count");
        expectError(j -> j.put("block_count", 0), "'block_count' must be a positive integer");
        expectError(j -> ((ArrayNode) j.get("tokens")).set(2, "<eos>"), "token 2 is '<eos>', expected '</s>'");
        expectError(j -> ((ArrayNode) j.get("tokens")).set(260, "ab"), "is not a single character");
        expectError(j -> ((ObjectNode) j.withArray("tensors").get(0)).put("offset", 1L << 40), "lies outside");
        expectError(j -> j.put("format", "other"), "format is 'other'");
        expectError(j -> j.put("data_file", "absent.bin"), "absent.bin is missing");
    }

    private static void expectError(Consumer<ObjectNode> edit, String message) throws IOException {
        ObjectMapper om = new ObjectMapper();
        ObjectNode j = (ObjectNode) om.readTree(manifestPath.toFile());
        edit.accept(j);
        Path bad = dir.resolve("bad.manifest.json");
        om.writeValue(bad.toFile(), j);
        Path bin = dir.resolve("fixture.bin");
        if (!Files.exists(bin)) Files.copy(manifest.dataFile(), bin);
        assertThatThrownBy(() -> TierManifest.read(bad)).isInstanceOf(IOException.class).hasMessageContaining(message);
    }

    @Test
    void notJsonIsAClearError() throws IOException {
        Path bad = dir.resolve("garbage.json");
        Files.writeString(bad, "{not json");
        assertThatThrownBy(() -> TierManifest.read(bad)).isInstanceOf(IOException.class).hasMessageContaining("not a readable JSON manifest");
    }
}
