package dev.gearbox.server;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * A load benchmark against a Gearbox server on this machine: {@code clients} concurrent streaming
 * chat clients send the prompts of a JSONL workload ({@code prompt}, optional {@code reference})
 * with {@code model: auto}, at most {@code requests} of them and for at most {@code maxSeconds}.
 * Every stream must end with a finish_reason and {@code data: [DONE]}; anything else counts as
 * failed or truncated. Loopback only: it refuses other hosts.
 */
public final class LoadBench {
    private static final ObjectMapper JSON = new ObjectMapper();

    public record Settings(URI base, Path data, int clients, int requests, int maxSeconds, String model) {}

    /** One request's record. */
    record Sample(boolean ok, String error, long latencyNanos, long ttftNanos, int completionTokens, boolean correct, boolean graded,
                  String tier, int retries) {}

    public static ObjectNode run(Settings s) throws IOException, InterruptedException {
        if (!loopback(s.base().getHost()))
            throw new IllegalArgumentException("load-bench only talks to this machine (loopback), not " + s.base());
        if (s.clients() < 1 || s.requests() < 1 || s.maxSeconds() < 1)
            throw new IllegalArgumentException("clients, requests and max seconds must be at least 1");
        List<JsonNode> rows = new ArrayList<>();
        try (Stream<String> lines = Files.lines(s.data())) {
            for (String l : (Iterable<String>) lines::iterator) if (!l.isBlank()) rows.add(JSON.readTree(l));
        }
        if (rows.isEmpty()) throw new IllegalArgumentException(s.data() + " has no prompts");
        HttpClient client = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).executor(Executors.newVirtualThreadPerTaskExecutor()).build();
        AtomicInteger next = new AtomicInteger();
        ConcurrentLinkedQueue<Sample> samples = new ConcurrentLinkedQueue<>();
        long t0 = System.nanoTime();
        long deadline = t0 + TimeUnit.SECONDS.toNanos(s.maxSeconds());
        try (ExecutorService pool = Executors.newVirtualThreadPerTaskExecutor()) {
            for (int c = 0; c < s.clients(); c++) {
                pool.submit(() -> {
                    int i;
                    while (System.nanoTime() < deadline && (i = next.getAndIncrement()) < s.requests()) {
                        samples.add(one(client, s, rows.get(i % rows.size()), deadline));
                    }
                    return null;
                });
            }
        }
        double wall = (System.nanoTime() - t0) / 1e9;
        return report(s, new ArrayList<>(samples), wall);
    }

    /** Literal loopback names only: resolving another name would already be traffic off this machine. */
    static boolean loopback(String host) {
        if (host == null) return false;
        String h = host.startsWith("[") && host.endsWith("]") ? host.substring(1, host.length() - 1) : host;
        return h.equalsIgnoreCase("localhost") || h.matches("127(\\.\\d{1,3}){3}") || h.equals("::1") || h.equals("0:0:0:0:0:0:0:1");
    }

    private static Sample one(HttpClient client, Settings s, JsonNode row, long deadline) {
        ObjectNode body = JSON.createObjectNode();
        body.put("model", s.model());
        body.putArray("messages").addObject().put("role", "user").put("content", row.get("prompt").asText());
        body.put("temperature", 0);
        body.put("stream", true);
        body.putObject("stream_options").put("include_usage", true);
        HttpRequest req = HttpRequest.newBuilder(s.base().resolve("/v1/chat/completions")).timeout(Duration.ofSeconds(120))
                .header("Content-Type", "application/json").POST(HttpRequest.BodyPublishers.ofString(body.toString())).build();
        int retries = 0;
        while (true) {
            long start = System.nanoTime();
            try {
                HttpResponse<Stream<String>> r = client.send(req, HttpResponse.BodyHandlers.ofLines());
                if (r.statusCode() == 429 && System.nanoTime() < deadline) {
                    retries++;
                    r.body().close();
                    long wait = r.headers().firstValueAsLong("retry-after").orElse(1);
                    Thread.sleep(Math.min(wait, 5) * 1000);
                    continue;
                }
                if (r.statusCode() != 200) {
                    String text = String.join("\n", r.body().toList());
                    return failed("HTTP " + r.statusCode() + ": " + text, retries);
                }
                String tier = r.headers().firstValue(GearboxServer.TIER_HEADER).orElse(null);
                long ttft = -1;
                StringBuilder text = new StringBuilder();
                String finish = null;
                int tokens = -1;
                boolean done = false;
                Iterator<String> it = r.body().iterator();
                while (it.hasNext()) {
                    String line = it.next();
                    if (!line.startsWith("data: ")) continue;
                    String data = line.substring(6);
                    if (data.equals("[DONE]")) { done = true; break; }
                    JsonNode chunk = JSON.readTree(data);
                    if (chunk.has("error")) return failed("error event: " + chunk.get("error").path("message").asText(), retries);
                    if (chunk.hasNonNull("usage")) tokens = chunk.get("usage").get("completion_tokens").asInt();
                    for (JsonNode ch : chunk.path("choices")) {
                        String piece = ch.path("delta").path("content").asText("");
                        if (!piece.isEmpty()) {
                            if (ttft < 0) ttft = System.nanoTime() - start;
                            text.append(piece);
                        }
                        if (ch.hasNonNull("finish_reason")) finish = ch.get("finish_reason").asText();
                    }
                }
                long latency = System.nanoTime() - start;
                if (!done) return failed("truncated: the stream ended without [DONE]", retries);
                if (finish == null) return failed("truncated: no finish_reason", retries);
                if (tokens < 0) return failed("no usage chunk", retries);
                boolean graded = row.hasNonNull("reference");
                boolean correct = graded && text.toString().trim().equals(row.get("reference").asText());
                return new Sample(true, null, latency, ttft < 0 ? latency : ttft, tokens, correct, graded, tier, retries);
            } catch (IOException e) {
                return failed("I/O: " + e, retries);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return failed("interrupted", retries);
            }
        }
    }

    private static Sample failed(String why, int retries) {
        return new Sample(false, why, 0, 0, 0, false, false, null, retries);
    }

    private static double percentile(long[] sorted, double q) {
        if (sorted.length == 0) return Double.NaN;
        int i = (int) Math.ceil(q * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, i))] / 1e6;
    }

    private static ObjectNode report(Settings s, List<Sample> samples, double wall) {
        List<Sample> ok = samples.stream().filter(Sample::ok).toList();
        long[] lat = ok.stream().mapToLong(Sample::latencyNanos).sorted().toArray();
        long[] ttft = ok.stream().mapToLong(Sample::ttftNanos).sorted().toArray();
        long tokens = ok.stream().mapToLong(Sample::completionTokens).sum();
        ObjectNode o = JSON.createObjectNode();
        o.put("url", s.base().toString());
        o.put("model", s.model());
        o.put("clients", s.clients());
        o.put("requests", samples.size());
        o.put("succeeded", ok.size());
        o.put("failed", samples.size() - ok.size());
        o.put("retried_429", samples.stream().mapToInt(Sample::retries).sum());
        o.put("wall_seconds", wall);
        o.put("requests_per_second", ok.size() / wall);
        o.put("completion_tokens", tokens);
        o.put("tokens_per_second", tokens / wall);
        o.put("latency_p50_ms", percentile(lat, 0.50));
        o.put("latency_p99_ms", percentile(lat, 0.99));
        o.put("ttft_p50_ms", percentile(ttft, 0.50));
        o.put("ttft_p99_ms", percentile(ttft, 0.99));
        long graded = ok.stream().filter(Sample::graded).count();
        if (graded > 0) o.put("accuracy", ok.stream().filter(Sample::correct).count() / (double) graded);
        ObjectNode tiers = o.putObject("tiers");
        for (Sample x : ok) tiers.put(String.valueOf(x.tier()), tiers.path(String.valueOf(x.tier())).asInt() + 1);
        var errors = o.putArray("errors");
        samples.stream().filter(x -> !x.ok()).map(Sample::error).distinct().limit(10).forEach(errors::add);
        return o;
    }

    public static String describe(JsonNode r) {
        return String.format(java.util.Locale.ROOT,
                "%d requests from %d clients in %.1f s: %d ok, %d failed or truncated, %d retried after 429%n"
                        + "throughput: %.2f requests/s, %.1f tokens/s (%d answer tokens)%n"
                        + "latency p50 %.1f ms, p99 %.1f ms; time to first token p50 %.1f ms, p99 %.1f ms%n"
                        + "tiers: %s%s",
                r.get("requests").asInt(), r.get("clients").asInt(), r.get("wall_seconds").asDouble(), r.get("succeeded").asInt(),
                r.get("failed").asInt(), r.get("retried_429").asInt(), r.get("requests_per_second").asDouble(),
                r.get("tokens_per_second").asDouble(), r.get("completion_tokens").asLong(), r.get("latency_p50_ms").asDouble(),
                r.get("latency_p99_ms").asDouble(), r.get("ttft_p50_ms").asDouble(), r.get("ttft_p99_ms").asDouble(), r.get("tiers"),
                r.has("accuracy") ? String.format(java.util.Locale.ROOT, "; accuracy against the references %.1f%%", 100 * r.get("accuracy").asDouble()) : "")
                + (r.get("errors").isEmpty() ? "" : "\nerrors: " + r.get("errors"));
    }

    private LoadBench() {}

}
