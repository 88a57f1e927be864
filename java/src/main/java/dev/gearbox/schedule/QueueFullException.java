package dev.gearbox.schedule;

/**
 * Thrown by {@link Scheduler#submit} when the chosen tier's queue is full. The server answers
 * 429 with {@code Retry-After: retryAfterSeconds()}; batch jobs wait that long and submit again.
 */
public final class QueueFullException extends RuntimeException {
    private final String tier;
    private final int retryAfterSeconds;

    public QueueFullException(String tier, int queued, int retryAfterSeconds) {
        super("tier '" + tier + "' has " + queued + " requests waiting, its queue is full; retry after " + retryAfterSeconds + " s");
        this.tier = tier;
        this.retryAfterSeconds = retryAfterSeconds;
    }

    public String tier() { return tier; }

    /** A hint, whole seconds, at least 1: the time the queue needs to make room at the current pace. */
    public int retryAfterSeconds() { return retryAfterSeconds; }
}
