package dev.gearbox.tensor;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class ParallelTest {
    private static final int DEFAULT_THREADS = Parallel.threads();

    @AfterEach
    void restore() {
        Parallel.setThreads(DEFAULT_THREADS);
    }

    @Test
    void everyIndexRunsExactlyOnce() {
        for (int threads : new int[] {1, 2, 3}) {
            Parallel.setThreads(threads);
            for (int n : new int[] {1, 7, 1000, 4099}) {
                AtomicIntegerArray hits = new AtomicIntegerArray(n);
                Parallel.forRange(n, 1, (a, b) -> { for (int i = a; i < b; i++) hits.incrementAndGet(i); });
                for (int i = 0; i < n; i++) assertThat(hits.get(i)).as("threads %d n %d index %d", threads, n, i).isEqualTo(1);
            }
        }
    }

    @Test
    void nestedLoopsRunInlineInsteadOfDeadlocking() {
        Parallel.setThreads(2);
        AtomicIntegerArray hits = new AtomicIntegerArray(64 * 64);
        Parallel.forRange(64, 1, (a, b) -> {
            for (int i = a; i < b; i++) {
                int row = i;
                Parallel.forRange(64, 1, (c, d) -> { for (int j = c; j < d; j++) hits.incrementAndGet(row * 64 + j); });
            }
        });
        for (int i = 0; i < 64 * 64; i++) assertThat(hits.get(i)).isEqualTo(1);
    }

    @Test
    void failuresReachTheCallerAndThePoolKeepsWorking() {
        Parallel.setThreads(2);
        assertThatThrownBy(() -> Parallel.forRange(1000, 1, (a, b) -> { throw new IllegalStateException("boom " + a); }))
                .isInstanceOf(IllegalStateException.class).hasMessageStartingWith("boom");
        int[] sum = new int[1];
        Parallel.forRange(10, 1, (a, b) -> { synchronized (sum) { sum[0] += b - a; } });
        assertThat(sum[0]).isEqualTo(10);
    }

    @Test
    void threadCountIsValidated() {
        assertThatThrownBy(() -> Parallel.setThreads(0)).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at least 1");
        Parallel.setThreads(3);
        assertThat(Parallel.threads()).isEqualTo(3);
    }
}
