package dev.gearbox.tensor;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;

/**
 * The worker threads that CPU kernels spread their work over. The count defaults to the number
 * of cores and can be set once at start-up (the CLI's {@code --threads}).
 */
public final class Parallel {
    private static volatile ForkJoinPool pool = new ForkJoinPool(Runtime.getRuntime().availableProcessors());

    private Parallel() {}

    public static synchronized void setThreads(int n) {
        if (n < 1) throw new IllegalArgumentException("threads must be at least 1, got " + n);
        if (n != pool.getParallelism()) {
            ForkJoinPool old = pool;
            pool = new ForkJoinPool(n);
            old.shutdown();
        }
    }

    public static int threads() {
        return pool.getParallelism();
    }

    /** Body of a parallel loop over [start, end). */
    @FunctionalInterface
    public interface RangeBody {
        void run(int start, int end);
    }

    /**
     * Runs {@code body} over [0, n) split into contiguous chunks, at most one chunk per thread
     * times a small factor, each at least {@code grain} long.
     */
    public static void forRange(int n, int grain, RangeBody body) {
        int threads = threads();
        if (threads == 1 || n <= grain) {
            body.run(0, n);
            return;
        }
        int chunks = Math.min(threads * 4, Math.max(1, n / Math.max(1, grain)));
        int chunk = (n + chunks - 1) / chunks;
        int count = (n + chunk - 1) / chunk;
        AtomicInteger next = new AtomicInteger();
        pool.submit(() -> IntStream.range(0, threads).parallel().forEach(w -> {
            int c;
            while ((c = next.getAndIncrement()) < count) {
                int s = c * chunk;
                body.run(s, Math.min(n, s + chunk));
            }
        })).join();
    }
}
