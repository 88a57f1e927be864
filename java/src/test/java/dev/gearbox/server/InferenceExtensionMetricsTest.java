package dev.gearbox.server;

import dev.gearbox.ladder.Ladder;
import dev.gearbox.schedule.Scheduler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * /metrics carries the gauges the Gateway API Inference Extension's endpoint picker reads
 * (vllm:num_requests_waiting, vllm:num_requests_running, vllm:kv_cache_usage_perc and the older
 * vllm:gpu_cache_usage_perc), as gauges, with the engine's numbers.
 */
class InferenceExtensionMetricsTest {
    private static final List<String> GIE = List.of("vllm:num_requests_waiting", "vllm:num_requests_running",
            "vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc");
    private GearboxServer server;
    private Ladder ladder;

    @AfterEach
    void stop() {
        if (server != null) server.close();
        if (ladder != null) ladder.close();
    }

    /** An engine reporting fixed load numbers; submit holds the request until {@code release}. */
    private static final class LoadedEngine implements CompletionEngine {
        final int queued, running;
        final double kv;
        final CountDownLatch submitted = new CountDownLatch(1);
        final CompletableFuture<CompletionListener> held = new CompletableFuture<>();
        LoadedEngine(int queued, int running, double kv) { this.queued = queued; this.running = running; this.kv = kv; }
        @Override public List<String> tierNames() { return List.of("s"); }
        @Override public Ticket submit(CompletionJob job, CompletionListener l) {
            held.complete(l);
            submitted.countDown();
            return () -> {};
        }
        @Override public int queueDepth() { return queued; }
        @Override public double kvCacheUsage() { return kv; }
        @Override public int runningRequests() { return running; }
        @Override public void close() {}
    }

    /** Sample lines "name value" (no labels) and the TYPE of each metric, from a Prometheus text scrape. */
    private static Map<String, String> samples(String scrape, Map<String, String> types) {
        Map<String, String> out = new HashMap<>();
        for (String line : scrape.split("\n")) {
            if (line.startsWith("# TYPE ")) {
                String[] p = line.substring(7).split(" ");
                types.put(p[0], p[1]);
            } else if (!line.startsWith("#") && !line.isBlank() && !line.contains("{")) {
                int sp = line.lastIndexOf(' ');
                out.put(line.substring(0, sp), line.substring(sp + 1));
            }
        }
        return out;
    }

    private static Map<String, Double> scrape(Http http) throws Exception {
        var r = http.get("/metrics");
        assertThat(r.statusCode()).isEqualTo(200);
        Map<String, String> types = new HashMap<>();
        Map<String, String> s = samples(r.body(), types);
        Map<String, Double> out = new HashMap<>();
        for (String name : GIE) {
            assertThat(types).as("TYPE of " + name).containsEntry(name, "gauge");
            assertThat(s).as(name + " in\n" + r.body()).containsKey(name);
            out.put(name, Double.parseDouble(s.get(name)));
        }
        out.put("gearbox_queue_depth", Double.parseDouble(s.get("gearbox_queue_depth")));
        out.put("gearbox_kv_cache_usage_ratio", Double.parseDouble(s.get("gearbox_kv_cache_usage_ratio")));
        out.put("gearbox_requests_running", Double.parseDouble(s.get("gearbox_requests_running")));
        return out;
    }

    @Test
    void theEnginesLoadNumbersAreExportedUnderTheProtocolsNames() throws Exception {
        server = new GearboxServer(new LoadedEngine(3, 2, 0.375), 8, new GearboxServer.Settings("127.0.0.1", 0, 1 << 16, 10_000));
        Map<String, Double> m = scrape(new Http(server.port()));
        assertThat(m.get("vllm:num_requests_waiting")).isEqualTo(3.0);
        assertThat(m.get("vllm:num_requests_running")).isEqualTo(2.0);
        assertThat(m.get("vllm:kv_cache_usage_perc")).isEqualTo(0.375);   // a fraction, as vLLM's
        assertThat(m.get("vllm:gpu_cache_usage_perc")).isEqualTo(0.375);
        assertThat(m.get("gearbox_queue_depth")).isEqualTo(3.0);
        assertThat(m.get("gearbox_requests_running")).isEqualTo(2.0);
    }

    @Test
    void anEngineThatDoesNotCountRunningFallsBackToRequestsInFlightLessQueued() throws Exception {
        LoadedEngine engine = new LoadedEngine(0, -1, 0);   // -1: does not count, as the interface's default
        server = new GearboxServer(engine, 8, new GearboxServer.Settings("127.0.0.1", 0, 1 << 16, 10_000));
        Http http = new Http(server.port());
        assertThat(scrape(http).get("vllm:num_requests_running")).isEqualTo(0.0);
        var pending = CompletableFuture.supplyAsync(() -> {
            try {
                return http.post("/v1/completions", "{\"model\":\"s\",\"prompt\":\"x\"}");
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        assertThat(engine.submitted.await(30, TimeUnit.SECONDS)).isTrue();
        assertThat(scrape(http).get("vllm:num_requests_running")).isEqualTo(1.0);
        engine.held.get().failed(ApiError.unavailable("test over"));
        assertThat(pending.get(30, TimeUnit.SECONDS).statusCode()).isEqualTo(503);
    }

    @Test
    void onTheSchedulerTheGaugesReadItsTierStats() throws Exception {
        ladder = Ladder.open(Ladder.defaultPath());
        Scheduler scheduler = Scheduler.open(ladder);
        SchedulerEngine engine = new SchedulerEngine(scheduler);
        server = new GearboxServer(engine, ladder.maxAnswerTokens(), new GearboxServer.Settings("127.0.0.1", 0, 1 << 16, 10_000));
        Http http = new Http(server.port());
        var r = http.post("/v1/chat/completions", "{\"model\":\"auto\",\"messages\":[{\"role\":\"user\",\"content\":\"add:12+34=\"}],\"temperature\":0}");
        assertThat(r.statusCode()).isEqualTo(200);
        Map<String, Double> m = scrape(http);
        // idle after the answer: nothing queued or holding a slot; the KV share is what the scheduler
        // reports (prefix-cache blocks may stay reserved), a fraction, the same in both names
        assertThat(m.get("vllm:num_requests_waiting")).isEqualTo(0.0);
        assertThat(m.get("vllm:num_requests_running")).isEqualTo(0.0);
        assertThat(m.get("vllm:kv_cache_usage_perc")).isBetween(0.0, 1.0)
                .isEqualTo(m.get("vllm:gpu_cache_usage_perc")).isEqualTo(m.get("gearbox_kv_cache_usage_ratio"));
        int running = scheduler.stats().stream().mapToInt(Scheduler.TierStats::running).sum();
        assertThat(engine.runningRequests()).isEqualTo(running).isZero();
    }
}
