package dev.gearbox.batch;

/**
 * Why an input line cannot run. {@code customId} is null when the line has no usable one; such
 * lines are written with their line number so a resumed job recognises them.
 */
final class BadLineException extends Exception {
    final String customId;
    final String code;
    final String param;

    BadLineException(String customId, String code, String param, String message) {
        super(message);
        this.customId = customId;
        this.code = code;
        this.param = param;
    }
}
