package dev.gearbox.template;

/**
 * What a template's own {@code raise_exception(msg)} throws (Hugging Face's templates use it to reject
 * conversations they cannot format, e.g. roles that do not alternate). {@link #templateMessage()} is
 * exactly the template's text.
 */
public final class RaisedException extends TemplateException {
    private final String templateMessage;

    public RaisedException(String templateMessage, int line, int column) {
        super("the template raised: " + templateMessage, line, column);
        this.templateMessage = templateMessage;
    }

    public String templateMessage() { return templateMessage; }
}
