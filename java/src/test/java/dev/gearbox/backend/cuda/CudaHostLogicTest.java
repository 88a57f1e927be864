package dev.gearbox.backend.cuda;

import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.gguf.TensorInfo;
import dev.gearbox.gguf.synth.SyntheticModel;
import dev.gearbox.tensor.GGMLType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The CUDA backend's host-side decisions, which need no device: graph keys and the fit check. */
class CudaHostLogicTest {

    @Test
    void stepsWithTheSameLaunchesShareAGraphWhateverTheTokenAndPosition() {
        DecodeStep a = step(7, 3, 100L), b = step(9, 4, 100L), c = step(7, 3, 200L);
        assertThat(a.signature()).isEqualTo(b.signature()).hasSameHashCodeAs(b.signature());
        assertThat(a.signature()).isNotEqualTo(c.signature()); // a different buffer is a different graph
        assertThat(a.graphable()).isTrue();
        assertThat(b.position()).isEqualTo(4);
    }

    @Test
    void argumentBoundariesAreKeptApart() {
        DecodeStep a = new DecodeStep(), b = new DecodeStep();
        a.add(dp -> { }, 1, 2);
        a.add(dp -> { }, 3);
        b.add(dp -> { }, 1);
        b.add(dp -> { }, 2, 3);
        assertThat(a.signature()).isNotEqualTo(b.signature());
    }

    @Test
    void mixedPositionsRunWithoutAGraph() {
        DecodeStep s = new DecodeStep();
        s.position(5);
        s.add(dp -> { }, 1);
        s.position(6);
        assertThat(s.graphable()).isFalse();
        assertThat(new DecodeStep().graphable()).as("an empty step").isFalse();
    }

    @Test
    void recordedOperationsRunInOrderWithTheDevicePositionFlag() {
        StringBuilder log = new StringBuilder();
        DecodeStep s = new DecodeStep();
        s.add(dp -> log.append("a").append(dp), 1);
        s.add(dp -> log.append("b").append(dp), 2);
        for (DecodeStep.Op op : s.ops()) op.run(true);
        assertThat(log).hasToString("atruebtrue");
    }

    private static DecodeStep step(int token, int pos, long buffer) {
        DecodeStep s = new DecodeStep();
        s.token(token);
        s.add(dp -> { }, 1, 30, 0x1000, 512, 64, buffer);
        s.position(pos);
        s.add(dp -> { }, 5, buffer, 4, 16);
        s.position(pos);
        return s;
    }

    @Test
    void aModelThatDoesNotFitIsRefusedWithBothNumbers() {
        long gib = 1L << 30;
        assertThat(DeviceMemory.fitRefusal("m.gguf", "cuda:0 NVIDIA H100", 10 * gib, 80 * gib)).isNull();
        String msg = DeviceMemory.fitRefusal("big.gguf", "cuda:0 NVIDIA H100", 90 * gib, 79 * gib);
        assertThat(msg).startsWith("big.gguf does not fit on cuda:0 NVIDIA H100: needs ")
                .contains(Long.toString(90 * gib + DeviceMemory.WORKING_RESERVE) + " bytes")
                .contains("90.00 GiB of weights").contains(79 * gib + " bytes (79.00 GiB) are free");
    }

    @Test
    void deviceSizeCountsVectorsAsF32AndMatricesAsStored(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("m.gguf");
        SyntheticModel.preset("tiny").weightType(GGMLType.Q8_0).seed(2).build().write(file);
        try (GGUFFile f = GGUFFile.open(file)) {
            long expected = 0;
            for (TensorInfo t : f.tensors().values()) expected += t.shape().length == 1 ? 4 * t.elementCount() : t.byteSize();
            assertThat(DeviceMemory.weightBytesOnDevice(f)).isEqualTo(expected);
            TensorInfo q = f.tensor("blk.0.attn_q.weight");
            assertThat(q.byteSize()).isEqualTo(q.elementCount() / 32 * 34); // Q8_0 stays quantized on the device
        }
    }
}
