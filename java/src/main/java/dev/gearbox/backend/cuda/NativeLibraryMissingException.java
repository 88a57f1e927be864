package dev.gearbox.backend.cuda;

import java.nio.file.Path;

/** The Gearbox CUDA kernel library is not where we looked; the message says where and how to build it. */
public final class NativeLibraryMissingException extends RuntimeException {
    private final Path path;

    public NativeLibraryMissingException(Path path, String detail) {
        super("the Gearbox CUDA kernel library " + path + " " + detail
                + ": build it with scripts/build-native.sh (needs nvcc and cmake), or point -Dgearbox.native.lib=PATH"
                + " or GEARBOX_NATIVE_LIB at a built libgearbox_cuda.so");
        this.path = path;
    }

    public Path path() { return path; }
}
