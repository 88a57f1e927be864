package dev.gearbox.cli;

import dev.gearbox.backend.Backend;
import dev.gearbox.backend.cuda.NoCudaDeviceException;
import dev.gearbox.device.Backends;
import dev.gearbox.gguf.GGUFFormatException;
import dev.gearbox.model.Model;
import dev.gearbox.tensor.Parallel;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Options every model-running command shares: the model file, threads and context size. */
final class ModelOptions {
    static final int DEFAULT_MAX_CTX = 4096;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "FILE", description = "GGUF model file.")
    Path model;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "Worker threads (default: the number of cores).")
    Integer threads;

    @Option(names = {"-c", "--ctx", "--ctx-size"}, paramLabel = "N",
            description = "Context size in tokens (default: the model's context length, at most " + DEFAULT_MAX_CTX + ").")
    Integer ctx;

    @Option(names = "--backend", paramLabel = "NAME", defaultValue = "cpu",
            description = "Where the forward pass runs: cpu or cuda (default: ${DEFAULT-VALUE}).")
    String backend = "cpu";

    @Option(names = "--device", paramLabel = "N", defaultValue = "0", description = "CUDA device ordinal for --backend cuda (default: ${DEFAULT-VALUE}).")
    int device;

    /** Applies --threads, then opens the model with a clear message for a missing or unreadable file. */
    Model load() throws IOException {
        applyThreads();
        return open(model, backend, device);
    }

    void applyThreads() {
        if (threads != null) {
            if (threads < 1) throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
            Parallel.setThreads(threads);
        }
    }

    static Model open(Path path) throws IOException {
        return open(path, Backends.CPU, 0);
    }

    /** Opens the model onto the named backend; a missing GPU is one clear line, not a stack trace. */
    static Model open(Path path, String backendName, int device) throws IOException {
        if (!Files.exists(path)) throw new GGUFFormatException(path, -1, "no such file");
        if (!Files.isRegularFile(path)) throw new GGUFFormatException(path, -1, "not a regular file");
        if (!Files.isReadable(path)) throw new GGUFFormatException(path, -1, "not readable (check its permissions)");
        Backend be = chooseBackend(backendName, device);
        try {
            return Model.load(path, be);
        } catch (GGUFFormatException e) {
            be.close();
            throw e;
        } catch (RuntimeException e) {
            be.close();
            throw e;
        } catch (IOException e) {
            be.close();
            throw new IOException(path + ": cannot read model: " + Main.describe(e), e);
        }
    }

    static Backend chooseBackend(String name, int device) {
        try {
            return Backends.create(name, device);
        } catch (NoCudaDeviceException e) {
            String reason = e.getMessage().substring("no CUDA device: ".length());
            throw new IllegalStateException("no CUDA device found (" + reason + "); run with --backend cpu", e);
        }
    }

    /** The context size to use: --ctx, or the model's own, capped at 4096 to keep the KV cache small. */
    int contextSize(Model m) {
        int trained = m.config().contextLength();
        if (ctx == null) return Math.min(trained, DEFAULT_MAX_CTX);
        if (ctx < 1) throw new IllegalArgumentException("--ctx must be at least 1, got " + ctx);
        return ctx;
    }
}
