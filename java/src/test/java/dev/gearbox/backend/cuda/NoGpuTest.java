package dev.gearbox.backend.cuda;

import dev.gearbox.cli.CliRunner;
import dev.gearbox.device.Backends;
import dev.gearbox.gguf.synth.SyntheticModel;
import dev.gearbox.tensor.GGMLType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * What a user sees on a machine without a GPU: a clear "no CUDA device" error (never a JVM crash
 * from JavaCPP's loader), the CLI's one line and non-zero exit, and the kernel library's error
 * paths. Runs everywhere; the parts that only make sense without a device assume there is none.
 */
class NoGpuTest {

    @Test
    void detectionWithoutADeviceIsAClearError() {
        assumeFalse(CudaRuntime.available(), "a CUDA device is present");
        assertThat(CudaRuntime.unavailableReason()).startsWith("no CUDA device: ");
        assertThatThrownBy(CudaRuntime::deviceCount).isInstanceOf(NoCudaDeviceException.class)
                .hasMessageStartingWith("no CUDA device: ");
        assertThatThrownBy(CudaRuntime::devices).isInstanceOf(NoCudaDeviceException.class);
        // asked twice: the answer is remembered, not a NoClassDefFoundError the second time
        assertThatThrownBy(() -> new CudaBackend(0)).isInstanceOf(NoCudaDeviceException.class)
                .hasMessageStartingWith("no CUDA device: ");
        assertThatThrownBy(() -> Backends.create("cuda", 0)).isInstanceOf(NoCudaDeviceException.class);
    }

    @Test
    void withoutTheDriverLibraryTheReasonNamesIt() {
        assumeFalse(Files.exists(Path.of("/usr/lib/x86_64-linux-gnu/libcuda.so.1")) || Files.exists(Path.of("/usr/lib64/libcuda.so.1")),
                "this machine has an NVIDIA driver");
        assertThat(CudaRuntime.unavailableReason()).contains("libcuda.so.1").contains("driver");
    }

    @Test
    void unknownBackendIsNamed() {
        assertThatThrownBy(() -> Backends.create("tpu", 0)).hasMessageContaining("unknown backend 'tpu'").hasMessageContaining("cpu, cuda");
    }

    @Test
    void generateOnCudaWithoutAGpuSaysSoAndExitsNonZero(@TempDir Path dir) throws Exception {
        assumeFalse(CudaRuntime.available(), "a CUDA device is present");
        Path model = dir.resolve("m.gguf");
        SyntheticModel.preset("tiny").weightType(GGMLType.Q8_0).seed(3).build().write(model);
        for (String cmd : new String[] {"generate", "bench"}) {
            String[] args = cmd.equals("generate")
                    ? new String[] {"generate", "-m", model.toString(), "-p", "hi", "-n", "2", "--backend", "cuda"}
                    : new String[] {"bench", "-m", model.toString(), "-p", "8", "-n", "2", "-r", "1", "--backend", "cuda"};
            CliRunner.Result r = CliRunner.run(args);
            assertThat(r.exitCode()).as(cmd).isNotZero();
            assertThat(r.out()).as(cmd).isEmpty();
            String[] lines = r.err().strip().split("\n");
            assertThat(lines).as(cmd).hasSize(1);
            assertThat(lines[0]).as(cmd).startsWith("gearbox: error: no CUDA device found").contains("--backend cpu");
        }
        CliRunner.Result cpu = CliRunner.run("generate", "-m", model.toString(), "-p", "hi", "-n", "2", "--backend", "cpu");
        assertThat(cpu.exitCode()).isZero();
    }

    @Test
    void missingKernelLibraryNamesThePathAndTheBuildScript(@TempDir Path dir) {
        Path missing = dir.resolve("nowhere").resolve("libgearbox_cuda.so");
        assertThatThrownBy(() -> NativeKernels.load(missing)).isInstanceOf(NativeLibraryMissingException.class)
                .hasMessageContaining(missing.toString()).hasMessageContaining("scripts/build-native.sh").hasMessageContaining("does not exist");
    }

    @Test
    void aFileThatIsNotALibraryIsRefusedClearly(@TempDir Path dir) throws Exception {
        Path junk = Files.writeString(dir.resolve("libgearbox_cuda.so"), "not an ELF file");
        assertThatThrownBy(() -> NativeKernels.load(junk)).isInstanceOf(NativeLibraryMissingException.class)
                .hasMessageContaining(junk.toString()).hasMessageContaining("cannot be loaded");
    }

    /** The nvcc-built library, on a machine with no CUDA device (skips otherwise). */
    private static NativeKernels builtLibraryWithoutDevice() {
        Path lib = NativeLibraryPath.resolve();
        assumeTrue(Files.isRegularFile(lib), "the kernel library is not built (" + lib + ")");
        assumeFalse(CudaRuntime.available(), "a CUDA device is present");
        return NativeKernels.load(lib);
    }

    /** The nvcc-built library, when scripts/build-native.sh has run here; its calls must fail cleanly without a driver. */
    @Test
    void kernelLibraryReportsNoDriverAsACudaError() {
        NativeKernels k = builtLibraryWithoutDevice();
        assertThat(k.apiVersion()).isEqualTo(NativeKernels.API_VERSION);
        int[] status = k.deviceCountStatus();
        assertThat(status[0]).as("cudaError of gbx_device_count").isIn(35, 100); // insufficient driver / no device
        assertThat(status[1]).isZero();
        assertThat(k.errorString(35)).isNotBlank();
        assertThatThrownBy(k::deviceCount).isInstanceOfSatisfying(CudaException.class, e -> {
            assertThat(e.code()).isEqualTo(status[0]);
            assertThat(e.getMessage()).startsWith("gbx_device_count failed: error " + status[0]).contains(k.errorString(status[0]));
        });
        // a host-only helper works without a device: bytes of one Q8_0 row of 64 values = 2 blocks of 34
        assertThat(k.rowBytes(GGMLType.Q8_0.id(), 64)).isEqualTo(68);
        // bad arguments are refused before any launch
        assertThatThrownBy(() -> k.rowBytes(12345, 64)).isInstanceOf(CudaException.class).hasMessageContaining("gbx_row_bytes");
    }

    /** NVTX ranges work with no GPU (a tool may still be attached); CUDA events fail cleanly. */
    @Test
    void profilingHooksBindAndFailCleanlyWithoutADriver() {
        NativeKernels k = builtLibraryWithoutDevice();
        try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
            k.nvtxPush(a.allocateFrom("outer"));
            k.nvtxPush(a.allocateFrom("inner"));
            k.nvtxPop();
            k.nvtxPop();
        }
        assertThatThrownBy(k::eventCreate).isInstanceOfSatisfying(CudaException.class,
                e -> assertThat(e.getMessage()).startsWith("gbx_event_create failed"));
        assertThatThrownBy(() -> k.eventRecord(0, 0)).isInstanceOf(CudaException.class).hasMessageContaining("gbx_event_record");
    }

    @Test
    void peakBandwidthComesFromTheCardName() {
        assertThat(new CudaDevice(0, "NVIDIA H100 80GB HBM3", 0, 0, 9, 0).peakBandwidthText()).isEqualTo("3.35 TB/s");
        assertThat(new CudaDevice(0, "NVIDIA H200", 0, 0, 9, 0).peakBandwidth()).isEqualTo(4.8e12);
        assertThat(new CudaDevice(0, "NVIDIA GeForce RTX 3060", 0, 0, 8, 6).peakBandwidthText()).isEqualTo("unknown");
    }
}
