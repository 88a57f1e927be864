package dev.gearbox.svf;

import java.io.IOException;
import java.nio.file.Path;

/**
 * An SVF sidecar or expert file that cannot be used with the model at hand: a different base
 * model, a missing or misshapen factor, a z of the wrong length. The message names the file.
 */
public final class SvfException extends IOException {
    private final Path file;

    public SvfException(Path file, String problem) {
        super(file + ": " + problem);
        this.file = file;
    }

    /** The sidecar or expert file at fault. */
    public Path file() { return file; }
}
