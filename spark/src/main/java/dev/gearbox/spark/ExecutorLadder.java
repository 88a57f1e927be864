package dev.gearbox.spark;

import dev.gearbox.batch.BatchRunner;
import dev.gearbox.ladder.Ladder;
import dev.gearbox.schedule.Scheduler;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * One ladder per executor JVM: opened the first time a task there needs it (from a path every
 * executor can read; {@link Ladder#open} memory-maps the tier files, nothing is copied), then
 * shared by every task of that JVM for its life, so the tasks running at once (local[2]: two)
 * submit to one {@link Scheduler} and their requests batch together per tier. Closed when the JVM
 * exits.
 */
final class ExecutorLadder {
    private record Loaded(Ladder ladder, Scheduler scheduler, BatchRunner runner) {}

    private static final Map<String, Loaded> LOADED = new ConcurrentHashMap<>();
    private static final AtomicInteger LOADS = new AtomicInteger();

    private ExecutorLadder() {}

    /** The batch runner on this JVM's scheduler for the ladder at {@code path} (absolute), opened once. */
    static BatchRunner runner(String path, int queueCapacity) {
        return LOADED.computeIfAbsent(path + "#" + queueCapacity, k -> open(path, queueCapacity)).runner();
    }

    /** How many ladders this JVM has opened (the tests check that it is one per ladder, not one per task). */
    static int loads() {
        return LOADS.get();
    }

    private static Loaded open(String path, int queueCapacity) {
        try {
            Ladder ladder = Ladder.open(Path.of(path));
            Scheduler scheduler;
            try {
                scheduler = Scheduler.open(ladder, Scheduler.Options.defaults().withQueueCapacity(queueCapacity));
            } catch (IOException | RuntimeException e) {
                ladder.close();
                throw e;
            }
            LOADS.incrementAndGet();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                scheduler.close();
                ladder.close();
            }, "gearbox-ladder-close"));
            return new Loaded(ladder, scheduler, new BatchRunner(scheduler));
        } catch (IOException e) {
            throw new UncheckedIOException("gearbox: cannot open the ladder " + path + " on this executor: " + e.getMessage(), e);
        }
    }
}
