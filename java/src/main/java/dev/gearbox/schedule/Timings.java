package dev.gearbox.schedule;

/**
 * Where a request's time went, in nanoseconds.
 *
 * @param routeNanos      the gatekeeper and router (0 for a forced tier)
 * @param queueNanos      from submit until the request held a slot and its KV cache (all hops summed)
 * @param firstTokenNanos from submit until the first answer token was sampled (-1 when none was)
 * @param totalNanos      from submit until the result
 */
public record Timings(long routeNanos, long queueNanos, long firstTokenNanos, long totalNanos) {}
