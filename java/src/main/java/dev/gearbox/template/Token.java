package dev.gearbox.template;

/** One lexical token of a template, with its 1-based position in the source. */
record Token(Kind kind, String text, Object value, int line, int col) {
    enum Kind { TEXT, VAR_BEGIN, VAR_END, BLOCK_BEGIN, BLOCK_END, NAME, STRING, INT, FLOAT, OP, EOF }

    boolean is(Kind k, String t) { return kind == k && text.equals(t); }

    boolean isOp(String t) { return is(Kind.OP, t); }

    boolean isName(String t) { return is(Kind.NAME, t); }

    @Override
    public String toString() {
        return switch (kind) {
            case EOF -> "end of template";
            case TEXT -> "template text";
            case STRING -> "string " + text;
            default -> "'" + text + "'";
        };
    }
}
