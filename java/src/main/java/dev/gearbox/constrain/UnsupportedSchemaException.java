package dev.gearbox.constrain;

/**
 * A JSON schema that {@link JsonSchemaCompiler} cannot turn into a grammar: an unsupported keyword
 * (or value of one), an unresolvable {@code $ref}, or a schema nothing can satisfy. Names the
 * keyword and the JSON pointer of the schema that holds it, for an HTTP 400.
 */
public final class UnsupportedSchemaException extends IllegalArgumentException {
    private final String keyword;
    private final String pointer;

    public UnsupportedSchemaException(String keyword, String pointer, String detail) {
        super("unsupported JSON schema: '" + keyword + "' at '" + (pointer.isEmpty() ? "#" : "#" + pointer) + "'"
                + (detail == null || detail.isEmpty() ? "" : ": " + detail));
        this.keyword = keyword;
        this.pointer = pointer;
    }

    /** The keyword that is not supported (or that cannot be satisfied). */
    public String keyword() {
        return keyword;
    }

    /** JSON pointer (RFC 6901, without the leading '#') of the schema that holds the keyword; "" is the root. */
    public String pointer() {
        return pointer;
    }
}
