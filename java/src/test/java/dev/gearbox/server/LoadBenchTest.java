package dev.gearbox.server;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gearbox.ladder.Ladder;
import dev.gearbox.schedule.Scheduler;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** A small load-bench run: concurrent streams on the held-out workload all end whole. */
class LoadBenchTest {
    private static final Path HELDOUT = Path.of("models", "data", "heldout.jsonl");

    @Test
    void concurrentStreamsAllFinishWithDone() throws Exception {
        try (Ladder ladder = Ladder.open(Ladder.defaultPath());
             GearboxServer server = new GearboxServer(new SchedulerEngine(Scheduler.open(ladder)), ladder.maxAnswerTokens(),
                     GearboxServer.Settings.loopback(0))) {
            JsonNode r = LoadBench.run(new LoadBench.Settings(URI.create("http://127.0.0.1:" + server.port()), HELDOUT, 6, 24, 60, "auto"));
            assertThat(r.get("failed").asInt()).as(r.toString()).isZero();
            assertThat(r.get("succeeded").asInt()).isEqualTo(24);
            assertThat(r.get("completion_tokens").asLong()).isPositive();
            assertThat(r.get("latency_p99_ms").asDouble()).isGreaterThanOrEqualTo(r.get("latency_p50_ms").asDouble());
            assertThat(r.get("accuracy").asDouble()).isGreaterThan(0.5);   // the routed ladder answers most held-out tasks
            assertThat(LoadBench.describe(r)).contains("requests/s", "p99");
        }
    }

    @Test
    void refusesAnythingButLoopback() {
        assertThatThrownBy(() -> LoadBench.run(new LoadBench.Settings(URI.create("http://example.com:80"), HELDOUT, 1, 1, 1, "auto")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("loopback");
        assertThat(LoadBench.loopback("127.0.0.1")).isTrue();
        assertThat(LoadBench.loopback("[::1]")).isTrue();
        assertThat(LoadBench.loopback("127.0.0.1.example.com")).isFalse();
        assertThat(LoadBench.loopback("10.0.0.1")).isFalse();
    }
}
