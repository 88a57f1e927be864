package dev.gearbox.schedule;

import java.util.concurrent.CancellationException;

/** Completes a request's future when it was cancelled, its deadline passed, or the scheduler shut down before it ran. */
public final class RequestCancelledException extends CancellationException {
    public enum Cause { CANCELLED, DEADLINE, SHUTDOWN, LISTENER_FAILED }

    private final Cause cause;

    public RequestCancelledException(Cause cause, String message) {
        super(message);
        this.cause = cause;
    }

    public Cause reason() { return cause; }
}
