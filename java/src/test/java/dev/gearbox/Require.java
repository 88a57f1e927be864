package dev.gearbox;

import dev.gearbox.tensor.Kernels;
import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * What a test needs from the machine, and what happens when it is missing. On a user's machine a
 * missing capability skips the test (it shows as skipped). Where the project promises it, the test
 * fails instead: {@code scripts/test} (and so CI) runs with {@code -Dgearbox.require=native,assets,shared,node},
 * so a broken native build or a failed asset fetch turns CI red rather than quietly skipping the
 * tests that cover them.
 *
 * <ul>
 *   <li>{@code native}: the native CPU kernels ({@code scripts/build-native-cpu.sh}, gcc and AVX-512 VNNI)</li>
 *   <li>{@code assets}: the tokenizer packages {@code scripts/fetch-test-assets.sh} puts in {@code target/test-assets}</li>
 *   <li>{@code shared}: the read-only {@code ../shared} data</li>
 *   <li>{@code node}: node and npm, for the official {@code openai} npm client</li>
 *   <li>{@code python-openai}: python3 with venv and a pip that can install the official {@code openai}
 *       Python package (and pydantic) into target/; not required by scripts/test, since pip needs a
 *       package index</li>
 * </ul>
 */
public final class Require {
    public static final String PROPERTY = "gearbox.require";
    public static final Path ASSETS = Path.of("target", "test-assets");

    private Require() {}

    static Set<String> required() {
        return Arrays.stream(System.getProperty(PROPERTY, "").split(",")).map(String::strip).filter(s -> !s.isEmpty())
                .collect(Collectors.toSet());
    }

    /** Skips the test without {@code capability}, or fails it where {@code -Dgearbox.require} names the capability. */
    public static void capability(String capability, boolean present, String missing) {
        if (present) return;
        if (required().contains(capability)) {
            Assertions.fail(missing + " (required here: -D" + PROPERTY + "=" + System.getProperty(PROPERTY) + ")");
        }
        Assumptions.abort(missing);
    }

    public static void nativeCpu() {
        capability("native", Kernels.nativeAvailable(), "native CPU kernels: " + Kernels.nativeStatus());
    }

    /** A file under target/test-assets. */
    public static Path asset(String name) {
        Path p = ASSETS.resolve(name);
        capability("assets", Files.exists(p), p + " is absent: run scripts/fetch-test-assets.sh");
        return p;
    }

    /** A file under ../shared. */
    public static Path shared(String relative) {
        Path p = SharedData.ROOT.resolve(relative);
        capability("shared", Files.exists(p), "needs ../shared/" + relative + " (absent on this machine)");
        return p;
    }
}
