package dev.gearbox.gguf;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.junit.jupiter.api.Assumptions.assumeTrue;

/** Locates the read-only shared test data; tests skip when it is absent. */
final class SharedData {
    private SharedData() {}

    static Path stories260K() {
        Path p = Path.of("../shared/models/stories260K.gguf");
        assumeTrue(Files.isRegularFile(p), "shared test data not present: " + p.toAbsolutePath());
        return p;
    }
}
