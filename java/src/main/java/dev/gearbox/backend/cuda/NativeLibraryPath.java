package dev.gearbox.backend.cuda;

import java.nio.file.Path;

/**
 * Where libgearbox_cuda.so is looked for: {@code -Dgearbox.native.lib}, then {@code GEARBOX_NATIVE_LIB},
 * then {@code target/native/libgearbox_cuda.so} under the working directory (the repository root
 * when run through scripts/gearbox or the tests), which is where scripts/build-native.sh puts it.
 */
final class NativeLibraryPath {
    static final String PROPERTY = "gearbox.native.lib";
    static final String ENV = "GEARBOX_NATIVE_LIB";
    static final Path DEFAULT = Path.of("target", "native", "libgearbox_cuda.so");

    private NativeLibraryPath() {}

    static Path resolve() {
        String p = System.getProperty(PROPERTY);
        if (p != null && !p.isBlank()) return Path.of(p).toAbsolutePath();
        String e = System.getenv(ENV);
        if (e != null && !e.isBlank()) return Path.of(e).toAbsolutePath();
        return DEFAULT.toAbsolutePath();
    }
}
