package dev.gearbox.model;

import dev.gearbox.Require;
import dev.gearbox.backend.cpu.CpuBackend;
import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.gguf.synth.SyntheticModel;
import dev.gearbox.tensor.GGMLType;
import dev.gearbox.tensor.Kernels;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every architecture and tensor type end to end: a random model from the generator runs through
 * the engine (batched prefill, then decode steps) and through the independent naive forward pass;
 * logits must agree at every position.
 */
class ArchitectureEndToEndTest {
    @TempDir
    static Path dir;

    /**
     * Each case on the float-activation kernels, and again on the native int8 kernels for every type
     * that has them (skipped, and so shown, where this machine cannot run the native library).
     */
    static Stream<Arguments> cases() {
        List<Arguments> out = new ArrayList<>();
        TestModels.archTypeCases().forEach(a -> {
            out.add(Arguments.of(a.get()[0], a.get()[1], false));
            if (Kernels.hasNativeDecodeKernel((GGMLType) a.get()[1])) out.add(Arguments.of(a.get()[0], a.get()[1], true));
        });
        return out.stream();
    }

    @AfterEach
    void nativeBackOn() {
        Kernels.setNativeKernels(true);
    }

    @ParameterizedTest(name = "{0} {1} int8 kernels {2}")
    @MethodSource("cases")
    void engineMatchesNaiveForward(String arch, GGMLType type, boolean int8) throws Exception {
        if (int8) Require.nativeCpu();
        Kernels.setNativeKernels(int8);
        // Float activations: 1e-2 of the logit scale for quantized weights. Int8 activations (the
        // native kernels, decode and for Q8_0/Q4_0 prefill, as llama.cpp does them) add rounding at
        // every layer: 0.8-1.5% here, and llama.cpp itself lands 1.6-1.9% of the logit scale from the
        // exact result on such files, so 3e-2.
        double quantizedTol = int8 ? 3e-2 : 1e-2;
        SyntheticModel.Builder b = TestModels.small(arch, type, 7);
        if (arch.equals("llama")) b.llama3RopeScaling(SyntheticModel.Llama3RopeScaling.llama31(8)).tiedOutput(true);
        Path file = dir.resolve(arch + "-" + type + ".gguf");
        b.build().write(file);

        int[] prompt = {1, 17, 200, 45, 300, 9, 88};
        int[] decode = {5, 260, 42};
        boolean floatType = !type.quantized();
        try (Model model = Model.load(file, new CpuBackend()); Sequence seq = model.newSequence(32); GGUFFile f = GGUFFile.open(file)) {
            NaiveForward naive = new NaiveForward(f);
            float[][] got = seq.forwardAll(prompt);
            for (int i = 0; i < prompt.length; i++) compare(got[i], naive.step(prompt[i]), floatType ? 1e-3 : quantizedTol, "prompt position " + i);
            for (int i = 0; i < decode.length; i++) {
                float[] logits = seq.forward(new int[]{decode[i]});
                compare(logits, naive.step(decode[i]), floatType ? 1e-3 : quantizedTol, "decode step " + i);
            }
        }
    }

    /** {@code relTol}: the bound on the largest logit difference as a fraction of the largest logit. */
    private static void compare(float[] got, double[] expected, double relTol, String where) {
        double scale = 0, maxDiff = 0;
        for (int i = 0; i < got.length; i++) {
            scale = Math.max(scale, Math.abs(expected[i]));
            maxDiff = Math.max(maxDiff, Math.abs(got[i] - expected[i]));
        }
        double tol = relTol * Math.max(scale, 1e-3);
        assertThat(maxDiff).as("%s: max |diff| (logit scale %.4f)", where, scale).isLessThanOrEqualTo(tol);
        int best = 0, second = -1;
        for (int i = 1; i < expected.length; i++) if (expected[i] > expected[best]) best = i;
        for (int i = 0; i < expected.length; i++) if (i != best && (second < 0 || expected[i] > expected[second])) second = i;
        if (expected[best] - expected[second] > 2 * tol) {
            int gotBest = 0;
            for (int i = 1; i < got.length; i++) if (got[i] > got[gotBest]) gotBest = i;
            assertThat(gotBest).as("%s: top-1", where).isEqualTo(best);
        }
    }
}
