package dev.gearbox.backend.cuda;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Where libgearbox_cuda.so is looked for: {@code -Dgearbox.native.lib}, then {@code GEARBOX_NATIVE_LIB},
 * then {@code target/native/libgearbox_cuda.so} under the working directory (the repository root
 * when run through the tests), then under the folders above the running jar or classes (so
 * scripts/gearbox works from any directory); that is where scripts/build-native.sh puts it.
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
        Path cwd = DEFAULT.toAbsolutePath();
        if (Files.isRegularFile(cwd)) return cwd;
        // run from elsewhere: the repository that holds the running jar or classes (target/gearbox.jar, target/classes)
        try {
            var src = NativeLibraryPath.class.getProtectionDomain().getCodeSource();
            if (src != null) {
                for (Path d = Path.of(src.getLocation().toURI()).toAbsolutePath().getParent(); d != null; d = d.getParent()) {
                    Path p2 = d.resolve(DEFAULT);
                    if (Files.isRegularFile(p2)) return p2;
                }
            }
        } catch (Exception ignored) {
            // no usable code location: the working directory's path is the one to report
        }
        return cwd;
    }
}
