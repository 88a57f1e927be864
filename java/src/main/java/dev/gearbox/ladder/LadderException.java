package dev.gearbox.ladder;

import java.io.IOException;
import java.nio.file.Path;

/**
 * A ladder that cannot be used: a bad YAML field, a missing model file, tiers out of order,
 * vocabularies that differ where a feature needs one. The message names the file and the field.
 */
public final class LadderException extends IOException {
    private final Path file;
    private final String field;

    public LadderException(Path file, String field, String problem) {
        this(file, field, problem, null);
    }

    public LadderException(Path file, String field, String problem, Throwable cause) {
        super(file + (field != null ? ": " + field : "") + ": " + problem, cause);
        this.file = file;
        this.field = field;
    }

    /** The ladder file (or router file) at fault. */
    public Path file() { return file; }

    /** The YAML path of the field at fault (e.g. {@code tiers[1].model}), or null for the file as a whole. */
    public String field() { return field; }
}
