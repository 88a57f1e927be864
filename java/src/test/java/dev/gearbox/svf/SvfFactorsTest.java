package dev.gearbox.svf;

import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.gguf.GGUFValue;
import dev.gearbox.gguf.GGUFWriter;
import dev.gearbox.gguf.synth.SyntheticModel;
import dev.gearbox.tensor.GGMLType;
import org.ejml.data.DMatrixRMaj;
import org.ejml.dense.row.CommonOps_DDRM;
import org.ejml.dense.row.SingularOps_DDRM;
import org.ejml.dense.row.factory.DecompositionFactory_DDRM;
import org.ejml.interfaces.decomposition.SingularValueDecomposition_F64;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Sidecar factors of a small random Q8_0 model: rebuilding W, truncation, and the checks at open. */
class SvfFactorsTest {
    @TempDir
    static Path dir;
    static Path model;
    static Path sidecar;

    @BeforeAll
    static void decompose() throws Exception {
        model = dir.resolve("tiny.gguf");
        SyntheticModel.preset("tiny").weightType(GGMLType.Q8_0).seed(3).build().write(model);
        sidecar = SvfDecomposer.defaultSidecar(model);
        SvfDecomposer.write(model, "l", MatrixSelection.ALL, sidecar, name -> { });
    }

    @Test
    void sidecarHoldsEveryChosenMatrixWithItsMetadata() throws Exception {
        assertThat(sidecar.getFileName().toString()).isEqualTo("tiny.gguf.svf.gguf");
        try (GGUFFile f = GGUFFile.open(sidecar)) {
            assertThat(f.getString("svf.base_sha256", null)).isEqualTo(Checksums.sha256(model)).hasSize(64);
            assertThat(f.getString("svf.matrices", null)).isEqualTo("all");
            assertThat(f.getString("svf.tier", null)).isEqualTo("l");
            assertThat(f.tensors()).hasSize(2 * 7 * 3);
            // ffn_down: 256 outputs over 512 inputs, so r = 256
            assertThat(f.tensor("blk.1.ffn_down.weight.svf.u").shape()).containsExactly(256, 256);
            assertThat(f.tensor("blk.1.ffn_down.weight.svf.v").shape()).containsExactly(256, 512);
            assertThat(f.tensor("blk.0.attn_k.weight.svf.u").shape()).containsExactly(128, 128);
            assertThat(f.tensor("blk.0.attn_k.weight.svf.v").shape()).containsExactly(128, 256);
            assertThat(f.tensor("blk.0.attn_k.weight.svf.s").type()).isEqualTo(GGMLType.F32);
        }
        try (SvfFactors f = SvfFactors.open(sidecar, model)) {
            assertThat(f.tensorNames()).hasSize(14).contains("blk.0.attn_q.weight", "blk.1.ffn_gate.weight");
            assertThat(f.shape("blk.0.ffn_up.weight")).isEqualTo(new SvfFactors.Shape(512, 256));
        }
    }

    @Test
    void zOfOnesGivesTheDequantizedWeightsBack() throws Exception {
        try (SvfFactors f = SvfFactors.open(sidecar, model); GGUFFile m = GGUFFile.open(model)) {
            for (String t : f.tensorNames()) {
                DMatrixRMaj w = Dense.matrix(m, m.tensor(t));
                float[] ones = new float[f.shape(t).rank()];
                Arrays.fill(ones, 1f);
                float[] back = f.reconstruct(t, ones);
                assertThat(back).hasSize(w.getNumElements());
                double maxErr = 0, maxW = 0;
                for (int i = 0; i < back.length; i++) {
                    maxErr = Math.max(maxErr, Math.abs(back[i] - w.data[i]));
                    maxW = Math.max(maxW, Math.abs(w.data[i]));
                }
                assertThat(maxW).isGreaterThan(0);
                assertThat(maxErr / maxW).as(t).isLessThan(1e-5);
            }
        }
    }

    @Test
    void zeroingTheSmallestSingularValuesIsTheScaledRankKTruncation() throws Exception {
        String t = "blk.0.ffn_down.weight";
        int k = 40;
        try (SvfFactors f = SvfFactors.open(sidecar, model); GGUFFile m = GGUFFile.open(model)) {
            int r = f.shape(t).rank();
            float[] z = new float[r];
            Arrays.fill(z, 0, k, 1f);
            DMatrixRMaj wPrime = f.reconstructDense(t, z);

            // Independent of the sidecar: EJML's SVD of the dequantized W, truncated to rank k here.
            DMatrixRMaj w = Dense.matrix(m, m.tensor(t));
            SingularValueDecomposition_F64<DMatrixRMaj> svd = DecompositionFactory_DDRM.svd(w.numRows, w.numCols, true, true, true);
            assertThat(svd.decompose(w.copy())).isTrue();
            DMatrixRMaj u = svd.getU(null, false), s = svd.getW(null), v = svd.getV(null, false);
            SingularOps_DDRM.descendingOrder(u, false, s, v, false);
            double sum = 0, sumK = 0;
            for (int i = 0; i < r; i++) {
                sum += s.get(i, i);
                if (i < k) sumK += s.get(i, i);
            }
            for (int i = k; i < r; i++) s.set(i, i, 0);
            DMatrixRMaj us = new DMatrixRMaj(u.numRows, r), truncated = new DMatrixRMaj(w.numRows, w.numCols);
            CommonOps_DDRM.mult(u, s, us);
            CommonOps_DDRM.multTransB(us, v, truncated);
            CommonOps_DDRM.scale(sum / sumK, truncated);

            double maxErr = 0, maxAbs = 0;
            for (int i = 0; i < truncated.data.length; i++) {
                maxErr = Math.max(maxErr, Math.abs(truncated.data[i] - wPrime.data[i]));
                maxAbs = Math.max(maxAbs, Math.abs(truncated.data[i]));
            }
            assertThat(maxErr / maxAbs).isLessThan(1e-5);

            // And W' itself has exactly k non-zero singular values, σ_i · Σσ/Σσ_k.
            double[] got = SingularOps_DDRM.singularValues(wPrime);
            Arrays.sort(got);
            double scale = sum / sumK;
            for (int i = 0; i < r; i++) {
                double want = i < k ? s.get(i, i) * scale : 0;
                assertThat(got[r - 1 - i]).as("σ'_" + i).isCloseTo(want, org.assertj.core.data.Offset.offset(1e-5 * s.get(0, 0)));
            }
        }
    }

    @Test
    void rescalingKeepsTheSumOfSingularValuesAndRefusesANonPositiveSum() {
        double[] s = {4, 2, 1};
        double[] scaled = SvfFactors.scaledSingularValues(s, new float[] {0.5f, 2f, 0f});
        assertThat(scaled[0] + scaled[1] + scaled[2]).isCloseTo(7, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(scaled[0] / scaled[1]).isCloseTo(0.5, org.assertj.core.data.Offset.offset(1e-12));
        assertThat(scaled[2]).isZero();
        assertThatThrownBy(() -> SvfFactors.scaledSingularValues(s, new float[] {0, 0, 0})).hasMessageContaining("must be positive");
        assertThatThrownBy(() -> SvfFactors.scaledSingularValues(s, new float[] {1, 1})).hasMessageContaining("2 values for 3");
    }

    @Test
    void openingAgainstAnotherModelNamesTheSidecarAndBothChecksums() throws Exception {
        Path other = dir.resolve("other.gguf");
        SyntheticModel.preset("tiny").weightType(GGMLType.Q8_0).seed(4).build().write(other);
        String shaModel = Checksums.sha256(model), shaOther = Checksums.sha256(other);
        assertThatThrownBy(() -> SvfFactors.open(sidecar, other)).isInstanceOfSatisfying(SvfException.class, e -> {
            assertThat(e.file()).isEqualTo(sidecar);
            assertThat(e.getMessage()).startsWith(sidecar.toString()).contains("different model")
                    .contains(shaModel).contains(shaOther);
        });
    }

    @Test
    void openingASidecarWithAMisshapenFactorNamesTheFactorAndBothShapes() throws Exception {
        Path bad = dir.resolve("bad.svf.gguf");
        String t = "blk.0.ffn_up.weight"; // 512 x 256, r = 256
        new GGUFWriter()
                .putString("svf.base_sha256", Checksums.sha256(model))
                .putString("svf.matrices", "mlp")
                .put("svf.tensors", GGUFValue.strings(t))
                .addTensor(t + ".svf.u", GGMLType.F32, new long[] {10, 512}, new byte[4 * 10 * 512])
                .addTensor(t + ".svf.s", GGMLType.F32, new long[] {256}, new byte[4 * 256])
                .addTensor(t + ".svf.v", GGMLType.F32, new long[] {256, 256}, new byte[4 * 256 * 256])
                .write(bad);
        assertThatThrownBy(() -> SvfFactors.open(bad, model)).isInstanceOf(SvfException.class)
                .hasMessageStartingWith(bad.toString())
                .hasMessageContaining("'" + t + ".svf.u' has shape [10, 512]").hasMessageContaining("implies [256, 512]");

        Path missing = dir.resolve("missing.svf.gguf");
        new GGUFWriter().putString("svf.base_sha256", Checksums.sha256(model)).putString("svf.matrices", "mlp")
                .put("svf.tensors", GGUFValue.strings("blk.7.ffn_up.weight")).write(missing);
        assertThatThrownBy(() -> SvfFactors.open(missing, model)).isInstanceOf(SvfException.class)
                .hasMessageContaining("blk.7.ffn_up.weight").hasMessageContaining("lacks");

        assertThatThrownBy(() -> SvfFactors.open(model, model)).isInstanceOf(SvfException.class).hasMessageContaining("not an SVF sidecar");
    }
}
