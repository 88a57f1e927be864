package dev.gearbox.svf;

import dev.gearbox.gguf.synth.SyntheticModel;
import dev.gearbox.tensor.GGMLType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Expert files: round trip, the base-model check, and the check against a sidecar. */
class SvfExpertTest {
    @TempDir
    static Path dir;
    static Path model;
    static Path sidecar;

    @BeforeAll
    static void decompose() throws Exception {
        model = dir.resolve("tiny.gguf");
        SyntheticModel.preset("tiny").weightType(GGMLType.Q8_0).seed(5).build().write(model);
        sidecar = SvfDecomposer.defaultSidecar(model);
        SvfDecomposer.write(model, "l", MatrixSelection.MLP, sidecar, name -> { });
    }

    @Test
    void writesAndReadsBackEveryFieldAndEveryZ() throws Exception {
        try (SvfFactors f = SvfFactors.open(sidecar, model)) {
            Map<String, float[]> z = new LinkedHashMap<>();
            for (String t : f.tensorNames()) {
                float[] v = new float[f.shape(t).rank()];
                for (int i = 0; i < v.length; i++) v[i] = 0.5f + i * 0.01f + t.length();
                z.put(t, v);
            }
            SvfExpert e = new SvfExpert("l", f.baseSha256(), "math", "mlp", "hand-made for a test", z, null);
            Path p = SvfExpert.defaultPath(dir, "l", "math");
            assertThat(p).isEqualTo(dir.resolve("experts/l-math.gguf"));
            e.write(p);
            SvfExpert back = SvfExpert.read(p, Checksums.sha256(model));
            assertThat(back.tier()).isEqualTo("l");
            assertThat(back.task()).isEqualTo("math");
            assertThat(back.matrices()).isEqualTo("mlp");
            assertThat(back.training()).isEqualTo("hand-made for a test");
            assertThat(back.baseSha256()).isEqualTo(f.baseSha256());
            assertThat(back.file()).isEqualTo(p);
            assertThat(back.z().keySet()).containsExactlyElementsOf(z.keySet());
            for (String t : z.keySet()) assertThat(back.z().get(t)).containsExactly(z.get(t));
            f.check(back);
        }
    }

    @Test
    void readingAgainstAnotherBaseModelIsAnErrorNamingTheFile() throws Exception {
        Path p = dir.resolve("experts/l-code.gguf");
        try (SvfFactors f = SvfFactors.open(sidecar, model)) {
            SvfExpert.identity(f, "l", "code", "z = 1").write(p);
        }
        Path other = dir.resolve("other.gguf");
        SyntheticModel.preset("tiny").weightType(GGMLType.Q8_0).seed(6).build().write(other);
        String otherSha = Checksums.sha256(other), sha = Checksums.sha256(model);
        assertThatThrownBy(() -> SvfExpert.read(p, otherSha)).isInstanceOfSatisfying(SvfException.class, e -> {
            assertThat(e.file()).isEqualTo(p);
            assertThat(e.getMessage()).startsWith(p.toString()).contains(sha).contains(otherSha);
        });
        assertThat(SvfExpert.read(p, sha).task()).isEqualTo("code");
        assertThatThrownBy(() -> SvfExpert.read(sidecar, sha)).isInstanceOf(SvfException.class).hasMessageContaining("not an SVF expert");
    }

    @Test
    void aSidecarRefusesAnExpertForOtherWeightsOrWithAShortZ() throws Exception {
        try (SvfFactors f = SvfFactors.open(sidecar, model)) {
            String t = f.tensorNames().getFirst();
            SvfExpert foreign = new SvfExpert("l", "0".repeat(64), "math", "mlp", "", Map.of(t, new float[f.shape(t).rank()]), null);
            assertThatThrownBy(() -> f.check(foreign)).isInstanceOf(SvfException.class).hasMessageContaining("0".repeat(64));
            SvfExpert shortZ = new SvfExpert("l", f.baseSha256(), "math", "mlp", "", Map.of(t, new float[3]), null);
            assertThatThrownBy(() -> f.check(shortZ)).hasMessageContaining("has 3 values").hasMessageContaining(f.shape(t).rank() + " singular values");
            SvfExpert unknown = new SvfExpert("l", f.baseSha256(), "math", "attn", "", Map.of("blk.0.attn_q.weight", new float[3]), null);
            assertThatThrownBy(() -> f.check(unknown)).hasMessageContaining("blk.0.attn_q.weight");
        }
        assertThatThrownBy(() -> new SvfExpert("l", "0".repeat(64), "a/b", "", "", Map.of("x", new float[1]), null))
                .hasMessageContaining("task name 'a/b'");
    }
}
