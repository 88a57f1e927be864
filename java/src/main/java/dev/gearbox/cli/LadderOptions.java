package dev.gearbox.cli;

import dev.gearbox.ladder.Ladder;
import dev.gearbox.tensor.Parallel;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;

/** Options of the commands that run a ladder: the ladder file and threads. */
final class LadderOptions {
    @Option(names = {"-l", "--ladder"}, paramLabel = "FILE",
            description = "Ladder YAML (default: models/ladder.yaml of the repository, found from the working directory or the jar).")
    Path ladder;

    @Option(names = {"-t", "--threads"}, paramLabel = "N", description = "Worker threads (default: the number of cores).")
    Integer threads;

    Path path() {
        return ladder != null ? ladder : Ladder.defaultPath();
    }

    void applyThreads() {
        if (threads != null) {
            if (threads < 1) throw new IllegalArgumentException("--threads must be at least 1, got " + threads);
            Parallel.setThreads(threads);
        }
    }

    Ladder open() throws IOException {
        applyThreads();
        return Ladder.open(path());
    }
}
