package dev.gearbox.schedule;

/** A submitted request: its result to come, and a way to give up on it. */
public interface RequestHandle {
    /** A scheduler-wide unique id, e.g. {@code req-42}. */
    String id();

    /** The tier chosen by routing (or forced), or {@code "ensemble"}; known at submit. */
    String tier();

    /**
     * Completes with the {@link Result}, or exceptionally with {@link RequestCancelledException}
     * (cancelled, deadline, shutdown) or the error that stopped it. Cancelling this future is the
     * same as {@link #cancel()}.
     */
    java.util.concurrent.CompletableFuture<Result> future();

    /**
     * Gives up on the request: a queued one leaves the queue, a running one leaves its batch before
     * the next step and its slot and KV cache are freed before the future completes. No-op when done.
     */
    void cancel();

}
