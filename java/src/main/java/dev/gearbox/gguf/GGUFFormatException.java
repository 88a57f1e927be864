package dev.gearbox.gguf;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A GGUF file that cannot be read. The message names the file, what was being read (a field or a
 * tensor) and the byte offset where the problem was found.
 */
public class GGUFFormatException extends IOException {
    private final transient Path file;
    private final long offset;

    public GGUFFormatException(Path file, long offset, String what) {
        super(file + ": " + what + (offset >= 0 ? " (at byte offset " + offset + ")" : ""));
        this.file = file;
        this.offset = offset;
    }

    public Path file() { return file; }

    /** Byte offset of the problem, or -1 when it has no single place. */
    public long offset() { return offset; }
}
