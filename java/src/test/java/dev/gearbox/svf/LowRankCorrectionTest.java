package dev.gearbox.svf;

import dev.gearbox.gguf.synth.SyntheticModel;
import dev.gearbox.tensor.GGMLType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The rank-r view of an expert's change to a matrix and its measured error. */
class LowRankCorrectionTest {
    @TempDir
    static Path dir;
    static Path model;
    static Path sidecar;
    static final String T = "blk.1.ffn_up.weight"; // 512 x 256, r = 256

    @BeforeAll
    static void decompose() throws Exception {
        model = dir.resolve("tiny.gguf");
        SyntheticModel.preset("tiny").weightType(GGMLType.Q8_0).seed(7).build().write(model);
        sidecar = SvfDecomposer.defaultSidecar(model);
        SvfDecomposer.write(model, "l", MatrixSelection.MLP, sidecar, name -> { });
    }

    /** z around 1 with a few components pushed far from it, as a trained expert's would be. */
    static float[] z(int r, long seed) {
        Random rnd = new Random(seed);
        float[] z = new float[r];
        for (int i = 0; i < r; i++) z[i] = (float) (1 + 0.05 * rnd.nextGaussian());
        for (int i = 0; i < 12; i++) z[rnd.nextInt(r)] = (float) (rnd.nextDouble() * 3);
        return z;
    }

    @Test
    void fullRankIsExactAndTheErrorFallsAsTheRankGrows() throws Exception {
        try (SvfFactors f = SvfFactors.open(sidecar, model)) {
            int r = f.shape(T).rank();
            Map<String, float[]> zs = new LinkedHashMap<>();
            zs.put(T, z(r, 1));
            SvfExpert e = new SvfExpert("l", f.baseSha256(), "math", "mlp", "random z for a test", zs, null);

            assertThat(LowRankCorrection.of(f, e, T, r).relativeError()).isLessThan(1e-9);
            assertThat(LowRankCorrection.of(f, e, T, 0).relativeError()).isCloseTo(1.0, within(1e-9));

            ThinSvd fac = f.factors(T);
            double[] scaled = SvfFactors.scaledSingularValues(fac.s(), zs.get(T));
            double[] d2 = new double[r];
            for (int i = 0; i < r; i++) d2[i] = Math.pow(scaled[i] - fac.s()[i], 2);
            double total = Arrays.stream(d2).sum();
            double[] sortedDesc = Arrays.stream(d2).map(x -> -x).sorted().map(x -> -x).toArray();

            double previous = Double.POSITIVE_INFINITY;
            for (int rank : new int[] {1, 2, 4, 8, 12, 32, 128}) {
                LowRankCorrection c = LowRankCorrection.of(f, e, T, rank);
                assertThat(c.rank()).isEqualTo(rank);
                assertThat(c.relativeError()).as("rank " + rank).isLessThan(previous);
                previous = c.relativeError();
                // The measured error is what orthogonal U and V predict from the dropped δ alone.
                double dropped = 0;
                for (int i = rank; i < r; i++) dropped += sortedDesc[i];
                assertThat(c.relativeError()).as("rank " + rank).isCloseTo(Math.sqrt(dropped / total), within(1e-5));
                // The kept components are the largest |δ|, largest first.
                for (int i = 1; i < rank; i++) assertThat(Math.abs(c.delta()[i])).isLessThanOrEqualTo(Math.abs(c.delta()[i - 1]));
            }
        }
    }

    @Test
    void anIdentityExpertChangesNothing() throws Exception {
        try (SvfFactors f = SvfFactors.open(sidecar, model)) {
            LowRankCorrection c = LowRankCorrection.of(f, SvfExpert.identity(f, "l", "none", ""), T, 4);
            assertThat(c.relativeError()).isZero();
            for (double d : c.delta()) assertThat(Math.abs(d)).isLessThan(1e-12);
        }
    }
}
