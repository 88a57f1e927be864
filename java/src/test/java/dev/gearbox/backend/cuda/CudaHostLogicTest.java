package dev.gearbox.backend.cuda;

import dev.gearbox.gguf.GGUFFile;
import dev.gearbox.gguf.TensorInfo;
import dev.gearbox.gguf.synth.SyntheticModel;
import dev.gearbox.tensor.GGMLType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The CUDA backend's host-side decisions, which need no device: which calls of a step scope are
 * recorded and when they launch, graph keys, and the fit check.
 */
class CudaHostLogicTest {

    /** A StepRecorder whose launches, frees and timer requests go to {@code log}. */
    private static StepRecorder recorder(boolean graphs, List<String> log) {
        return new StepRecorder(graphs, () -> {
            log.add("timer?");
            return null;
        }, st -> log.add("launch " + st.ops().size() + " ops"), ptr -> log.add("free " + ptr), new Object());
    }

    private static void call(StepRecorder rec, List<String> log, String name) {
        rec.launch(name, 0, 0, dp -> log.add(name + (dp ? " from slots" : " now")), 1, name.hashCode());
    }

    @Test
    void outsideAnyScopeEveryCallLaunchesAtOnceAndIsTimed() {
        List<String> log = new ArrayList<>();
        StepRecorder rec = recorder(true, log);
        call(rec, log, "rms_norm");
        call(rec, log, "matvec");
        assertThat(rec.recording()).isFalse();
        assertThat(log).containsExactly("timer?", "rms_norm now", "timer?", "matvec now");
    }

    @Test
    void aOneRowScopeRecordsEveryCallUntilAResultIsNeededThenLaunchesTheRestAtOnce() {
        List<String> log = new ArrayList<>();
        StepRecorder rec = recorder(true, log);
        try (var scope = rec.open(1, false)) {
            assertThat(rec.recording()).isTrue();
            call(rec, log, "embed");
            call(rec, log, "rms_norm");
            call(rec, log, "copy");
            assertThat(log).as("recorded, not launched, not timed").isEmpty();
            rec.flush(); // a read or a choice
            assertThat(log).containsExactly("launch 3 ops");
            call(rec, log, "matvec");
            assertThat(log).containsExactly("launch 3 ops", "timer?", "matvec now");
        }
        assertThat(log).as("nothing left to launch at the close").hasSize(3);
        assertThat(rec.isOpen()).isFalse();
    }

    @Test
    void closingTheScopeLaunchesWhatIsStillRecorded() {
        List<String> log = new ArrayList<>();
        StepRecorder rec = recorder(true, log);
        try (var scope = rec.open(1, false)) {
            call(rec, log, "embed");
            call(rec, log, "add");
        }
        assertThat(log).containsExactly("launch 2 ops");
        call(rec, log, "add");
        assertThat(log).as("after the scope: at once").endsWith("add now");
    }

    @Test
    void onlyASingleTokenStepWithGraphsOnAndTheProfilerOffRecords() {
        assertThat(StepRecorder.records(1, true, false)).isTrue();
        assertThat(StepRecorder.records(2, true, false)).as("prefill or a batched step").isFalse();
        assertThat(StepRecorder.records(0, true, false)).isFalse();
        assertThat(StepRecorder.records(1, false, false)).as("graphs off").isFalse();
        assertThat(StepRecorder.records(1, true, true)).as("profiling: every kernel timed").isFalse();
        for (boolean graphs : new boolean[] {true, false}) {
            List<String> log = new ArrayList<>();
            StepRecorder rec = recorder(graphs, log);
            try (var scope = rec.open(graphs ? 7 : 1, false)) {
                call(rec, log, "matmul");
            }
            assertThat(log).as("graphs " + graphs).containsExactly("timer?", "matmul now");
        }
    }

    @Test
    void aSecondScopeOnTheSameThreadIsRefusedAndTheFirstStillCloses() {
        List<String> log = new ArrayList<>();
        StepRecorder rec = recorder(true, log);
        try (var scope = rec.open(1, false)) {
            assertThatThrownBy(() -> rec.open(1, false)).isInstanceOf(IllegalStateException.class).hasMessageContaining("already open");
            assertThat(rec.recording()).isTrue();
        }
        try (var again = rec.open(3, false)) {
            assertThat(rec.isOpen()).isTrue();
        }
        assertThat(rec.isOpen()).isFalse();
    }

    @Test
    void anotherThreadWaitsForTheOpenScopeOfItsLane() throws Exception {
        StepRecorder rec = recorder(true, new ArrayList<>());
        AtomicBoolean entered = new AtomicBoolean();
        Thread other;
        try (var scope = rec.open(1, false)) {
            other = new Thread(() -> {
                try (var mine = rec.open(1, false)) {
                    entered.set(true);
                }
            });
            other.start();
            other.join(200);
            assertThat(entered).as("the other thread's step waits").isFalse();
        }
        other.join(10_000);
        assertThat(entered).as("and runs once the first scope closes").isTrue();
    }

    @Test
    void memoryRetiredWhileRecordingIsFreedOnlyAfterTheStepRuns() {
        List<String> log = new ArrayList<>();
        StepRecorder rec = recorder(true, log);
        rec.retire(7);
        assertThat(log).containsExactly("free 7");
        try (var scope = rec.open(1, false)) {
            call(rec, log, "attention");
            rec.retire(42); // a buffer the recorded attention may still name
            assertThat(log).containsExactly("free 7");
        }
        assertThat(log).containsExactly("free 7", "launch 1 ops", "free 42");
    }

    @Test
    void recordedCallsKeepTheirPositionAndTokenForTheSlots() {
        StepRecorder rec = recorder(true, new ArrayList<>());
        List<DecodeStep> launched = new ArrayList<>();
        StepRecorder r = new StepRecorder(true, () -> null, launched::add, ptr -> { }, new Object());
        try (var scope = r.open(1, false)) {
            r.step().token(9);
            r.position(12);
            r.launch("rope", 0, 0, dp -> { }, 5, 1);
            r.position(12);
            r.launch("store_kv", 0, 0, dp -> { }, 6, 1);
        }
        assertThat(launched).hasSize(1);
        assertThat(launched.get(0).token()).isEqualTo(9);
        assertThat(launched.get(0).position()).isEqualTo(12);
        assertThat(launched.get(0).graphable()).isTrue();
        rec.position(3); // outside a recording: nothing to note, nothing thrown
    }

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
