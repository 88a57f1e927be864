package dev.gearbox.schedule;

/**
 * The cause a request's future fails with (join: CompletionException, get: ExecutionException) when it was
 * cancelled, its deadline passed, its listener threw, or the scheduler shut down before it finished.
 */
public final class RequestCancelledException extends RuntimeException {
    public enum Cause { CANCELLED, DEADLINE, SHUTDOWN, LISTENER_FAILED }

    private final Cause cause;

    public RequestCancelledException(Cause cause, String message) {
        super(message);
        this.cause = cause;
    }

    public Cause reason() { return cause; }
}
