package dev.gearbox.svf;

import dev.gearbox.backend.cpu.CpuBackend;
import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.gguf.GGUFWriter;
import dev.gearbox.gguf.TensorInfo;
import dev.gearbox.gguf.synth.SyntheticModel;
import dev.gearbox.model.Adaptation;
import dev.gearbox.model.BatchStep;
import dev.gearbox.model.Model;
import dev.gearbox.model.Sequence;
import dev.gearbox.tensor.GGMLType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/**
 * Experts applied in the forward pass, against an independent reference: a model file whose
 * matrices are the dense W' (written with GGUFWriter) run with no adaptation at all. The base is
 * F32 so that the comparison measures the adaptation, not the rounding of quantized products.
 */
class SvfAdapterTest {
    @TempDir
    static Path dir;
    static Path modelFile;
    static Model model;
    static SvfFactors factors;
    static SvfExpert expert, other;

    static final int[] PROMPT = {1, 17, 42, 99, 7, 250, 3};

    @BeforeAll
    static void setUp() throws Exception {
        modelFile = dir.resolve("tiny.gguf");
        SyntheticModel.preset("tiny").weightType(GGMLType.F32).seed(11).build().write(modelFile);
        Path sidecar = SvfDecomposer.defaultSidecar(modelFile);
        SvfDecomposer.write(modelFile, "m", MatrixSelection.ALL, sidecar, name -> { });
        factors = SvfFactors.open(sidecar, modelFile);
        expert = random(factors, "add", 1);
        other = random(factors, "mul", 2);
        model = Model.load(modelFile, new CpuBackend());
    }

    @AfterAll
    static void tearDown() {
        model.close();
        factors.close();
    }

    /** z = 1 + 0.3 N(0, 1) for every matrix: an expert that changes every singular value a little. */
    static SvfExpert random(SvfFactors f, String task, long seed) {
        Random rnd = new Random(seed);
        Map<String, float[]> z = new LinkedHashMap<>();
        for (String t : f.tensorNames()) {
            float[] v = new float[f.shape(t).rank()];
            for (int i = 0; i < v.length; i++) v[i] = (float) (1 + 0.3 * rnd.nextGaussian());
            z.put(t, v);
        }
        return new SvfExpert("m", f.baseSha256(), task, f.matrices().label(), "random, test", z, null);
    }

    static float[][] logits(Model m, Adaptation a, int[] tokens) {
        try (Sequence s = m.newSequence(64)) {
            s.adapt(a);
            return s.forwardAll(tokens);
        }
    }

    static void assertClose(float[][] got, float[][] want, double tol) {
        assertThat(got.length).isEqualTo(want.length);
        for (int t = 0; t < want.length; t++) {
            for (int i = 0; i < want[t].length; i++) {
                assertThat((double) got[t][i]).as("position %d logit %d", t, i).isCloseTo(want[t][i], within(tol));
            }
        }
    }

    @Test
    void exactAndFullRankLowRankEqualAModelFileHoldingTheDenseAdaptedMatrices() throws Exception {
        Path dense = dir.resolve("dense.gguf");
        writeDense(modelFile, dense, expert);
        float[][] reference;
        try (Model d = Model.load(dense, new CpuBackend())) {
            reference = logits(d, null, PROMPT);
        }
        float[][] base = logits(model, null, PROMPT);
        Adaptation exact = SvfAdapter.build(model, factors, expert, SvfAdapter.Form.EXACT, 0, "m:add").adaptation();
        SvfAdapter.Built full = SvfAdapter.build(model, factors, expert, SvfAdapter.Form.LOW_RANK, 1 << 16, "m:add");

        assertClose(logits(model, exact, PROMPT), reference, 1e-4);
        assertClose(logits(model, full.adaptation(), PROMPT), reference, 1e-4);
        assertThat(full.maxRelativeError()).isLessThan(1e-6);   // sqrt of a float64 difference of equal sums
        // and the expert does change the answer: far more than the tolerance above
        double moved = 0;
        for (int i = 0; i < base[6].length; i++) moved = Math.max(moved, Math.abs(base[6][i] - reference[6][i]));
        assertThat(moved).isGreaterThan(1e-2);
    }

    @Test
    void zOfOnesGivesTheBaseLogits() throws Exception {
        SvfExpert ones = SvfExpert.identity(factors, "m", "id", "ones");
        float[][] base = logits(model, null, PROMPT);
        Adaptation lowRank = SvfAdapter.build(model, factors, ones, SvfAdapter.Form.LOW_RANK, 16, "m:id").adaptation();
        Adaptation exact = SvfAdapter.build(model, factors, ones, SvfAdapter.Form.EXACT, 0, "m:id").adaptation();
        // δ = 0 exactly, so the correction adds zeros
        assertThat(logits(model, lowRank, PROMPT)).isDeepEqualTo(base);
        // W' rebuilt from F32 factors: within their rounding
        assertClose(logits(model, exact, PROMPT), base, 1e-4);
    }

    @Test
    void lowRankErrorFallsWithRankAndMatchesTheDenseMeasure() throws Exception {
        SvfAdapter.Built r4 = SvfAdapter.build(model, factors, expert, SvfAdapter.Form.LOW_RANK, 4, "m:add");
        SvfAdapter.Built r32 = SvfAdapter.build(model, factors, expert, SvfAdapter.Form.LOW_RANK, 32, "m:add");
        assertThat(r4.maxRelativeError()).isGreaterThan(r32.maxRelativeError()).isLessThan(1);
        String t = "blk.1.ffn_down.weight";
        assertThat(r4.relativeErrors().get(t)).isCloseTo(LowRankCorrection.of(factors, expert, t, 4).relativeError(), within(1e-4));
        assertThat(r4.adaptation().change(1, Adaptation.Matrix.DOWN).rank()).isEqualTo(4);
    }

    @Test
    void aMixedBatchEqualsEachSequenceRunAloneWithItsExpert() throws Exception {
        Adaptation lowRank = SvfAdapter.build(model, factors, expert, SvfAdapter.Form.LOW_RANK, 8, "m:add").adaptation();
        Adaptation exact = SvfAdapter.build(model, factors, other, SvfAdapter.Form.EXACT, 0, "m:mul").adaptation();
        Adaptation[] per = {lowRank, null, exact, lowRank};
        int[][] prompts = {{1, 5, 9}, {1, 5, 9}, {2, 8, 30, 31}, {4}};
        int[][] decode = {{11, 12, 13}, {11, 12, 13}, {40, 41, 42}, {7, 8, 9}};

        // alone: prefill then the decode tokens, one at a time
        float[][] alone = new float[per.length][];
        for (int i = 0; i < per.length; i++) {
            try (Sequence s = model.newSequence(64)) {
                s.adapt(per[i]);
                s.forward(prompts[i]);
                for (int tok : decode[i]) alone[i] = s.forward(new int[] {tok});
            }
        }
        // together: one mixed prefill step, then mixed decode steps
        List<Sequence> seqs = new ArrayList<>();
        for (Adaptation a : per) {
            Sequence s = model.newSequence(64);
            s.adapt(a);
            seqs.add(s);
        }
        BatchStep step = model.newBatchStep();
        step.step(seqs, prompts);
        float[][] together = null;
        for (int t = 0; t < 3; t++) {
            int[][] next = new int[per.length][];
            for (int i = 0; i < per.length; i++) next[i] = new int[] {decode[i][t]};
            together = step.step(seqs, next);
        }
        for (int i = 0; i < per.length; i++) {
            assertClose(new float[][] {together[i]}, new float[][] {alone[i]}, 1e-4);
            seqs.get(i).close();
        }
        // sequences 0 and 1 read the same tokens: the expert is what tells them apart
        assertThat(together[0]).isNotEqualTo(together[1]);
    }

    @Test
    void aSequenceKeepsItsAdaptationOnceItHoldsPositions() throws Exception {
        Adaptation a = SvfAdapter.build(model, factors, expert, SvfAdapter.Form.LOW_RANK, 2, "m:add").adaptation();
        try (Sequence s = model.newSequence(16)) {
            s.forward(new int[] {1, 2});
            assertThatThrownBy(() -> s.adapt(a)).isInstanceOf(IllegalStateException.class).hasMessageContaining("holding 2 positions");
        }
        assertThatThrownBy(() -> new Adaptation.Builder(model, "m:x").exact("blk.0.ffn_up.weight", new float[3]))
                .hasMessageContaining("3 values for blk.0.ffn_up.weight, expected 512 x 256");
        assertThatThrownBy(() -> new Adaptation.Builder(model, "m:x").exact("output.weight", new float[3]))
                .hasMessageContaining("'output.weight' is not a matrix an adaptation can change");
    }

    /** The model file with every adapted matrix replaced by its dense W' in F32. */
    static void writeDense(Path src, Path dst, SvfExpert e) throws Exception {
        try (GGUFFile f = GGUFFile.open(src)) {
            GGUFWriter w = new GGUFWriter();
            f.metadata().forEach(w::put);
            for (TensorInfo t : f.tensorList()) {
                float[] z = e.z().get(t.name());
                if (z == null) {
                    w.addTensor(t.name(), t.type(), t.shape(), f.data(t).toArray(ValueLayout.JAVA_BYTE));
                    continue;
                }
                float[] wp = factors.reconstruct(t.name(), z);
                ByteBuffer bb = ByteBuffer.allocate(wp.length * 4).order(ByteOrder.LITTLE_ENDIAN);
                for (float v : wp) bb.putFloat(v);
                w.addTensor(t.name(), GGMLType.F32, t.shape(), bb.array());
            }
            w.write(dst);
        }
    }
}
