package dev.gearbox.tensor;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The worker threads that CPU kernels spread their work over. The count defaults to the number
 * of cores and can be set once at start-up (the CLI's {@code --threads}).
 *
 * <p>Decoding one token runs about a hundred small matrix products, each only tens of
 * microseconds long, so the cost of handing work to threads matters as much as the kernels. A
 * ForkJoinPool submit/join costs several microseconds and allocates; instead the workers here are
 * persistent threads that spin briefly on a generation counter after each job (so the next job
 * of the same token starts at once) and then park, so an idle engine uses no CPU. The calling
 * thread takes chunks too, and chunks are handed out through one atomic counter.
 */
public final class Parallel {
    private static volatile Pool pool = new Pool(Runtime.getRuntime().availableProcessors());

    private Parallel() {}

    public static synchronized void setThreads(int n) {
        if (n < 1) throw new IllegalArgumentException("threads must be at least 1, got " + n);
        if (n != pool.threads) {
            Pool old = pool;
            pool = new Pool(n);
            old.shutdown();
        }
    }

    public static int threads() {
        return pool.threads;
    }

    /** Body of a parallel loop over [start, end). */
    @FunctionalInterface
    public interface RangeBody {
        void run(int start, int end);
    }

    /**
     * Runs {@code body} over [0, n) split into contiguous chunks, at most one chunk per thread
     * times a small factor, each at least {@code grain} long. A call made from inside a body (or
     * while another thread's call holds the pool) simply runs on the calling thread's share.
     */
    public static void forRange(int n, int grain, RangeBody body) {
        if (n <= 0) return;
        Pool p = pool;
        int threads = p.threads;
        if (threads == 1 || n <= grain || Thread.currentThread() instanceof Worker || p.lock.isHeldByCurrentThread()) {
            body.run(0, n);
            return;
        }
        int chunks = Math.min(threads * 4, Math.max(1, n / Math.max(1, grain)));
        p.run(n, chunks, body);
    }

    private static final class Worker extends Thread {
        final Pool pool;
        final int index;

        Worker(Pool pool, int index) {
            super("gearbox-worker-" + index);
            this.pool = pool;
            this.index = index;
            setDaemon(true);
        }

        @Override
        public void run() {
            pool.workerLoop(this);
        }
    }

    private static final class Job {
        final RangeBody body;
        final int n, chunk, count;
        final AtomicInteger next = new AtomicInteger();
        final AtomicInteger done = new AtomicInteger();
        volatile Throwable failure;

        Job(RangeBody body, int n, int chunks) {
            this.body = body;
            this.n = n;
            this.chunk = (n + chunks - 1) / chunks;
            this.count = (n + chunk - 1) / chunk;
        }

        /** Takes and runs chunks until none are left. */
        void work() {
            int c;
            while ((c = next.getAndIncrement()) < count) {
                int s = c * chunk;
                try {
                    if (failure == null) body.run(s, Math.min(n, s + chunk));
                } catch (Throwable t) {
                    if (failure == null) failure = t;
                } finally {
                    done.incrementAndGet();
                }
            }
        }
    }

    private static final class Pool {
        /** Spin iterations before an idle worker parks; roughly a few hundred microseconds. */
        private static final int SPINS = 1 << 14;

        final int threads;
        final Worker[] workers;
        final ReentrantLock lock = new ReentrantLock();
        volatile Job job;
        volatile long generation;
        volatile boolean stopped;
        final AtomicInteger[] waiting;

        Pool(int threads) {
            this.threads = threads;
            this.workers = new Worker[threads - 1];
            this.waiting = new AtomicInteger[threads - 1];
            for (int i = 0; i < workers.length; i++) {
                waiting[i] = new AtomicInteger();
                workers[i] = new Worker(this, i);
                workers[i].start();
            }
        }

        void run(int n, int chunks, RangeBody body) {
            lock.lock();
            try {
                Job j = new Job(body, n, chunks);
                job = j;
                generation = generation + 1; // only the lock holder writes it
                for (int i = 0; i < workers.length; i++) {
                    if (waiting[i].get() != 0) LockSupport.unpark(workers[i]);
                }
                j.work();
                int spins = 0;
                while (j.done.get() < j.count) {
                    if (++spins > SPINS) Thread.yield(); else Thread.onSpinWait();
                }
                Throwable t = j.failure;
                if (t instanceof RuntimeException re) throw re;
                if (t instanceof Error e) throw e;
                if (t != null) throw new RuntimeException(t);
            } finally {
                lock.unlock();
            }
        }

        void workerLoop(Worker self) {
            long seen = generation;
            while (!stopped) {
                int spins = 0;
                while (generation == seen && !stopped) {
                    if (++spins < SPINS) {
                        Thread.onSpinWait();
                    } else {
                        waiting[self.index].set(1);
                        if (generation == seen && !stopped) LockSupport.park(this);
                        waiting[self.index].set(0);
                    }
                }
                if (stopped) return;
                seen = generation;
                Job j = job;
                if (j != null) j.work();
            }
        }

        void shutdown() {
            stopped = true;
            for (Worker w : workers) LockSupport.unpark(w);
        }
    }
}
