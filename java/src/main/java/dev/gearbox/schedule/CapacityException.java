package dev.gearbox.schedule;

/**
 * Thrown by {@link Scheduler#submit} for a request that can never run on its tier: a prompt that
 * leaves no room in the context, or a KV cache larger than the tier's whole KV budget. The
 * message says how much it needs and what the tier has. The server maps it to 400.
 */
public final class CapacityException extends IllegalArgumentException {
    public CapacityException(String message) {
        super(message);
    }
}
