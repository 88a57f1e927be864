package dev.gearbox.server;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.time.Duration;
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
 * </ul>
 */
public final class ServerMetrics {
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private final Timer ttft;
    private final Timer tpot;
    private final Timer gatekeeper;
    private final Counter promptTokens;
    private final Counter completionTokens;

    public ServerMetrics(CompletionEngine engine, java.util.function.IntSupplier inFlight) {
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
        io.micrometer.core.instrument.FunctionCounter.builder("gearbox.prefix.cache.queries", engine, e -> e.prefixCache()[0])
                .description("Prefills that looked in their tier's prefix cache").register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder("gearbox.prefix.cache.hits", engine, e -> e.prefixCache()[1])
                .description("Prefills that reused at least one cached block").register(registry);
        io.micrometer.core.instrument.FunctionCounter.builder("gearbox.prefix.cache.tokens", engine, e -> e.prefixCache()[2])
                .description("Prompt tokens taken from the prefix cache instead of computed").register(registry);
        for (String tier : engine.tierNames()) routedCounter(tier);   // every tier shows, at 0 before traffic
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
