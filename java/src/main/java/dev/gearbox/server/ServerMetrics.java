package dev.gearbox.server;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The server's Prometheus metrics (names as scraped, Micrometer adds the unit suffixes):
 * <ul>
 *   <li>{@code gearbox_requests_total{endpoint,status}}: finished HTTP requests</li>
 *   <li>{@code gearbox_time_to_first_token_seconds}: request accepted to first answer text</li>
 *   <li>{@code gearbox_time_per_output_token_seconds}: decode time per token after the first</li>
 *   <li>{@code gearbox_queue_depth}: requests waiting for a slot</li>
 *   <li>{@code gearbox_routed_total{tier}}: requests per answering tier (share = one over the sum)</li>
 *   <li>{@code gearbox_gatekeeper_latency_seconds}: the router's decision time (routed requests)</li>
 *   <li>{@code gearbox_prompt_tokens_total}, {@code gearbox_completion_tokens_total}: rate() gives tokens/s</li>
 *   <li>{@code gearbox_kv_cache_usage_ratio}: KV cache positions in use over those allowed</li>
 *   <li>{@code gearbox_requests_in_flight}: requests being answered</li>
 *   <li>{@code gearbox_requests_running}: requests holding a tier's slot (prefill or decode)</li>
 * </ul>
 * and, under the names the Gateway API Inference Extension's endpoint picker reads for load-aware
 * routing (below), the same numbers again.
 */
public final class ServerMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Timer ttft;
    private final Timer tpot;
    private final Timer gatekeeper;
    private final Counter promptTokens;
    private final Counter completionTokens;
    private final CompletionEngine engine;
    private final java.util.function.IntSupplier inFlight;

    public ServerMetrics(CompletionEngine engine, java.util.function.IntSupplier inFlight) {
        this.engine = engine;
        this.inFlight = inFlight;
        ttft = Timer.builder("gearbox.time.to.first.token").description("Time from accepting a request to its first answer text")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(60))
                .register(registry);
        tpot = Timer.builder("gearbox.time.per.output.token").description("Decode time per answer token after the first")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(10))
                .register(registry);
        gatekeeper = Timer.builder("gearbox.gatekeeper.latency").description("The router's decision time: gatekeeper pass plus head")
                .publishPercentileHistogram().minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofSeconds(10))
                .register(registry);
        promptTokens = Counter.builder("gearbox.prompt.tokens").description("Prompt tokens processed").register(registry);
        completionTokens = Counter.builder("gearbox.completion.tokens").description("Answer tokens generated").register(registry);
        Gauge.builder("gearbox.queue.depth", engine, CompletionEngine::queueDepth).description("Requests waiting for a slot").register(registry);
        Gauge.builder("gearbox.kv.cache.usage", engine, CompletionEngine::kvCacheUsage).baseUnit("ratio")
                .description("KV cache positions in use over those allowed, all tiers").register(registry);
        Gauge.builder("gearbox.requests.in.flight", inFlight, s -> s.getAsInt()).strongReference(true).description("Requests being answered").register(registry);
        Gauge.builder("gearbox.requests.running", this, m -> m.running()).description("Requests holding a tier's slot (prefill or decode)").register(registry);
        registerInferenceExtensionGauges(engine);
        io.micrometer.core.instrument.FunctionCounter.builder("gearbox.prefix.cache.queries", engine, e -> e.prefixCache()[0])
                .description("Prefills that looked in their tier's prefix cache").register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder("gearbox.prefix.cache.hits", engine, e -> e.prefixCache()[1])
                .description("Prefills that reused at least one cached block").register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder("gearbox.prefix.cache.tokens", engine, e -> e.prefixCache()[2])
                .description("Prompt tokens taken from the prefix cache instead of computed").register(registry);
        for (String tier : engine.tierNames()) routedCounter(tier);   // every tier shows, at 0 before traffic
    }

    /**
     * The model-server metrics of the Gateway API Inference Extension (GIE) protocol, which its
     * endpoint picker (EPP; llm-d's scheduler too) scrapes to pick the least loaded pod. The protocol
     * document, kubernetes-sigs/gateway-api-inference-extension
     * docs/proposals/003-model-server-protocol/README.md (commit 84436a96, 2026-08-18), names
     * TotalQueuedRequests (gauge, {@code vllm:num_requests_waiting}), TotalRunningRequests (gauge,
     * {@code vllm:num_requests_running}) and KVCacheUtilization (gauge, {@code vllm:kv_cache_usage_perc});
     * its earlier text (commit 2b934d03) and older EPP releases name the KV gauge
     * {@code vllm:gpu_cache_usage_perc}, so both are exported. The EPP is told other names by flags,
     * but the vLLM ones are its defaults, so a stock EPP works without configuration. Values follow
     * vLLM's meaning: counts of requests, and the KV share as a fraction 0..1 (despite "perc").
     * No labels: the EPP matches these by name, one pod = one model server.
     */
    private void registerInferenceExtensionGauges(CompletionEngine engine) {
        Gauge.builder("vllm:num_requests_waiting", engine, CompletionEngine::queueDepth)
                .description("GIE TotalQueuedRequests: requests waiting in the tiers' queues").register(registry);
        Gauge.builder("vllm:num_requests_running", this, m -> m.running())
                .description("GIE TotalRunningRequests: requests holding a tier's slot").register(registry);
        for (String name : List.of("vllm:kv_cache_usage_perc", "vllm:gpu_cache_usage_perc")) {
            Gauge.builder(name, engine, CompletionEngine::kvCacheUsage)
                    .description("GIE KVCacheUtilization: KV cache reserved over the tiers' budgets, 0..1").register(registry);
        }
    }

    /** The engine's running count, or (an engine that does not count them) completion requests in flight less those queued. */
    private double running() {
        int r = engine.runningRequests();
        return r >= 0 ? r : Math.max(0, inFlight.getAsInt() - engine.queueDepth());
    }

    public void request(String endpoint, int status) {
        Counter.builder("gearbox.requests").description("Finished HTTP requests").tag("endpoint", endpoint)
                .tag("status", Integer.toString(status)).register(registry).increment();
    }

    public void routed(String tier) { routedCounter(tier).increment(); }

    private Counter routedCounter(String tier) {
        return Counter.builder("gearbox.routed").description("Requests per answering tier").tag("tier", tier).register(registry);
    }

    public void gatekeeperNanos(long nanos) { gatekeeper.record(nanos, TimeUnit.NANOSECONDS); }

    public void firstTokenNanos(long nanos) { ttft.record(nanos, TimeUnit.NANOSECONDS); }

    public void perOutputTokenNanos(long nanos) { tpot.record(nanos, TimeUnit.NANOSECONDS); }

    public void tokens(int prompt, int completion) {
        promptTokens.increment(prompt);
        completionTokens.increment(completion);
    }

    public String scrape() { return registry.scrape(); }

    public PrometheusMeterRegistry registry() { return registry; }
}
