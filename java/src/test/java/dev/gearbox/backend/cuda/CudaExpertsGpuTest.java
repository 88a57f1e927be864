package dev.gearbox.backend.cuda;

import dev.gearbox.backend.cpu.CpuBackend;
import dev.gearbox.gguf.synth.SyntheticModel;
import dev.gearbox.model.Adaptation;
import dev.gearbox.model.BatchStep;
import dev.gearbox.model.Model;
import dev.gearbox.model.Sequence;
import dev.gearbox.svf.MatrixSelection;
import dev.gearbox.svf.SvfAdapter;
import dev.gearbox.svf.SvfDecomposer;
import dev.gearbox.svf.SvfExpert;
import dev.gearbox.svf.SvfFactors;
import dev.gearbox.tensor.GGMLType;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * SVF experts on CUDA against the CPU: uploaded F32 weights, row-range products and adds, in a
 * prefill (GEMM) and decode (mat-vec, recorded graph) steps of a batch mixing an exact expert, a
 * low-rank one and none. Skipped where no CUDA device is found.
 */
@Tag("gpu")
class CudaExpertsGpuTest {
    @TempDir
    static Path dir;

    @BeforeAll
    static void needsDevice() {
        assumeTrue(CudaRuntime.available(), () -> "skipped: " + CudaRuntime.unavailableReason());
    }

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

    /** Logits after prefill and three decode steps, per sequence, with the given experts (exact, low-rank, none, low-rank). */
    static float[][] run(Model m, SvfFactors f) throws Exception {
        Adaptation exact = SvfAdapter.build(m, f, random(f, "add", 1), SvfAdapter.Form.EXACT, 0, "m:add").adaptation();
        Adaptation low = SvfAdapter.build(m, f, random(f, "mul", 2), SvfAdapter.Form.LOW_RANK, 8, "m:mul").adaptation();
        Adaptation[] per = {exact, low, null, low};
        int[][] prompts = {{1, 5, 9, 3, 4, 5, 6, 7, 8, 9}, {1, 5, 9}, {2, 8, 30, 31}, {4}};
        List<Sequence> seqs = new ArrayList<>();
        for (Adaptation a : per) {
            Sequence s = m.newSequence(64);
            s.adapt(a);
            seqs.add(s);
        }
        BatchStep step = m.newBatchStep();
        float[][] out = step.step(seqs, prompts);
        for (int t = 0; t < 3; t++) {
            int[][] next = new int[per.length][];
            for (int i = 0; i < per.length; i++) next[i] = new int[] {10 + i + t};
            out = step.step(seqs, next);
        }
        // and a single sequence alone, whose decode steps CUDA records as graphs
        try (Sequence s = m.newSequence(64)) {
            s.adapt(low);
            s.forward(new int[] {1, 2, 3});
            float[] alone = null;
            for (int t = 0; t < 3; t++) alone = s.forward(new int[] {20 + t});
            float[][] all = java.util.Arrays.copyOf(out, out.length + 1);
            all[out.length] = alone;
            seqs.forEach(Sequence::close);
            return all;
        }
    }

    @Test
    void mixedExpertBatchMatchesTheCpu() throws Exception {
        Path file = dir.resolve("tiny.gguf");
        SyntheticModel.preset("tiny").weightType(GGMLType.Q8_0).seed(5).build().write(file);
        Path sidecar = dir.resolve("tiny.svf.gguf");
        SvfDecomposer.write(file, "m", MatrixSelection.ALL, sidecar, name -> { });
        float[][] cpu, gpu;
        try (SvfFactors f = SvfFactors.open(sidecar, file)) {
            try (Model m = Model.load(file, new CpuBackend())) { cpu = run(m, f); }
            try (Model m = Model.load(file, new CudaBackend(0))) { gpu = run(m, f); }
        }
        for (int i = 0; i < cpu.length; i++) {
            double max = 0;
            for (float v : cpu[i]) max = Math.max(max, Math.abs(v));
            for (int j = 0; j < cpu[i].length; j++) {
                // Q8_0 products differ a little between the CPU's and the GPU's kernels, as in CudaVsCpuGpuTest
                assertThat((double) gpu[i][j]).as("sequence %d logit %d", i, j).isCloseTo(cpu[i][j], within(2e-2 * Math.max(1, max)));
            }
        }
    }
}
