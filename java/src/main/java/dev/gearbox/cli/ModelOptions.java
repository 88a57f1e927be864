package dev.gearbox.cli;

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

    /** Applies --threads, then opens the model with a clear message for a missing or unreadable file. */
    Model load() throws IOException {
        applyThreads();
        return open(model);
    }

    void applyThreads() {
        if (threads != null) {
            if (threads < 1) throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
            Parallel.setThreads(threads);
        }
    }

    static Model open(Path path) throws IOException {
        if (!Files.exists(path)) throw new GGUFFormatException(path, -1, "no such file");
        if (!Files.isRegularFile(path)) throw new GGUFFormatException(path, -1, "not a regular file");
        if (!Files.isReadable(path)) throw new GGUFFormatException(path, -1, "not readable (check its permissions)");
        try {
            return Model.load(path);
        } catch (GGUFFormatException e) {
            throw e;
        } catch (IOException e) {
            throw new IOException(path + ": cannot read model: " + Main.describe(e), e);
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
