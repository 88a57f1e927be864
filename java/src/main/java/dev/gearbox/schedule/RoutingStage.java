package dev.gearbox.schedule;

import dev.gearbox.router.Decision;
import dev.gearbox.router.Gatekeeper;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Where {@code auto} requests wait for the gatekeeper: a bounded queue and a routing thread that
 * reads each prompt (the gatekeeper's prefill on the CPU), decides, tells the request's listener
 * and places the request on its tier's queue. Submitting never runs the gatekeeper, so an HTTP
 * thread is never held by another request's routing; the {@link Gatekeeper} itself is safe for
 * several threads (each pass takes a sequence of its own), so callers that route on their own
 * thread ({@link Scheduler#route}, as batch jobs do) run beside this one.
 */
final class RoutingStage {
    private final Scheduler scheduler;
    private final ArrayDeque<Job> queue = new ArrayDeque<>();
    private Thread thread;

    RoutingStage(Scheduler scheduler) {
        this.scheduler = scheduler;
    }

    void start() {
        thread = Thread.ofPlatform().daemon().name("gearbox-gatekeeper").start(this::loop);
    }

    void join(long deadlineNanos) throws InterruptedException {
        long left = deadlineNanos - System.nanoTime();
        if (left > 0) thread.join(Math.max(1, left / 1_000_000));
    }

    /** Queues a job for routing; throws {@link QueueFullException} when as many wait as the scheduler's queue capacity. */
    void submit(Job j) {
        synchronized (scheduler.lock) {
            if (queue.size() >= scheduler.options().queueCapacity()) {
                throw new QueueFullException("gatekeeper", queue.size(), 1);
            }
            scheduler.countInFlightLocked();
            j.enqueued(System.nanoTime());
            queue.addLast(j);
            scheduler.lock.notifyAll();
        }
    }

    void cancelAll() {
        List<Job> all;
        synchronized (scheduler.lock) {
            all = List.copyOf(queue);
        }
        for (Job j : all) j.cancel(RequestCancelledException.Cause.SHUTDOWN, "request " + j.id + ": the scheduler shut down before it finished");
    }

    private void loop() {
        List<Job> dropped = new ArrayList<>();
        while (true) {
            Job j;
            synchronized (scheduler.lock) {
                queue.removeIf(q -> q.stopReason() != null && dropped.add(q));
                j = queue.pollFirst();
                if (j == null && dropped.isEmpty()) {
                    if (scheduler.stopping && scheduler.inFlightLocked() == 0) return;
                    try {
                        scheduler.lock.wait(50);
                    } catch (InterruptedException e) {
                        return;
                    }
                    continue;
                }
            }
            for (Job d : dropped) scheduler.fail(d, d.cancelled());
            dropped.clear();
            if (j == null) continue;
            Decision d;
            try {
                d = scheduler.route(j.request);
            } catch (RuntimeException e) {
                scheduler.fail(j, e);
                continue;
            }
            // The time waiting for the gatekeeper counts as routing time, not as a tier's queue wait.
            j.routed(d, System.nanoTime() - j.enqueuedNanos());
            if (j.stopReason() != null) scheduler.fail(j, j.cancelled());
            else scheduler.placeRouted(j, d);
        }
    }
}
