package dev.gearbox.template;

/**
 * A template that cannot be parsed or rendered: the message names the line and column (1-based) in
 * the template source and what failed there.
 */
public class TemplateException extends RuntimeException {
    private final int line;
    private final int column;

    public TemplateException(String message, int line, int column) {
        super(line > 0 ? "template error at line " + line + ", column " + column + ": " + message : "template error: " + message);
        this.line = line;
        this.column = column;
    }

    public TemplateException(String message, int line, int column, Throwable cause) {
        this(message, line, column);
        initCause(cause);
    }

    /** 1-based line of the failing construct, or 0 when unknown. */
    public int line() { return line; }

    public int column() { return column; }
}
