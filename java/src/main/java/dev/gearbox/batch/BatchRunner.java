package dev.gearbox.batch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gearbox.api.RoutingJson;
import dev.gearbox.router.Decision;
import dev.gearbox.schedule.Request;
import dev.gearbox.schedule.RequestCancelledException;
import dev.gearbox.schedule.RequestHandle;
import dev.gearbox.schedule.Result;
import dev.gearbox.schedule.Scheduler;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code gearbox batch}: OpenAI Batch API input lines in, output lines out, through a
 * {@link Scheduler}. Skips the {@code custom_id}s an earlier run already wrote, turns bad lines
 * into error lines, routes every request first, then feeds each tier (one feeder per tier or
 * ensemble) so its queue, and with it its batch, stays full; a full queue makes the feeder wait
 * and retry. Output lines come in completion order, as OpenAI's do.
 */
public final class BatchRunner {

    /** What a run did. {@code skipped}: already in the output; {@code failed}: error lines written this run. */
    public record Summary(int total, int skipped, int succeeded, int failed, long completionTokens, long repairedBytes) {}

    /** Progress callbacks (the CLI draws a bar with them); called from several threads. */
    public interface Progress {
        void begin(long total, long alreadyDone);

        void lineDone(long completionTokens);

        Progress NONE = new Progress() {
            public void begin(long total, long alreadyDone) {}
            public void lineDone(long completionTokens) {}
        };
    }

    private final Scheduler scheduler;
    private final ObjectMapper json = new ObjectMapper();
    private final InputParser parser = new InputParser(json);

    public BatchRunner(Scheduler scheduler) {
        this.scheduler = scheduler;
    }

    private record Routed(BatchItem item, Request request, Decision decision) {}

    /** One input line: its 1-based number in the input and its text. */
    public record Line(int number, String text) {}

    /**
     * One output line as it is written: the request's {@code custom_id} (null for an input line
     * without a usable one), the JSON line, and for an answer the request's latency (queueing and
     * generation, milliseconds; NaN for an error line).
     */
    public record Output(String customId, String json, double latencyMs) {}

    /** Where output lines go; called from several threads. */
    private interface Sink {
        void write(Output line) throws IOException;
    }

    /** The file job: appends to {@code output}, skipping what an earlier run wrote there. */
    public Summary run(Path input, Path output, Progress progress) throws IOException {
        if (!Files.isRegularFile(input)) throw new IOException("batch input " + input + " not found or not a file");
        try (BatchOutput out = new BatchOutput(output, json)) {
            List<String> text = readLines(input);
            List<Line> lines = new ArrayList<>(text.size());
            for (int i = 0; i < text.size(); i++) lines.add(new Line(i + 1, text.get(i)));
            Summary s = process(lines, out.doneIds, out.doneLines, o -> out.append(o.json()), progress);
            return new Summary(s.total(), s.skipped(), s.succeeded(), s.failed(), s.completionTokens(), out.repairedBytes);
        }
    }

    /**
     * Answers input lines exactly as {@link #run} answers a file's (the same parsing, error lines,
     * routing first and one feeder per tier), with no output file: one output per non-blank line,
     * in completion order. A {@code custom_id} repeated within {@code lines} is an error line on its
     * later occurrences, as in a file. The Spark integration answers each partition with it.
     */
    public List<Output> answer(List<Line> lines) throws IOException {
        List<Output> out = new ArrayList<>();
        process(lines, Set.of(), Set.of(), o -> {
            synchronized (out) {
                out.add(o);
            }
        }, Progress.NONE);
        return out;
    }

    /**
     * The {@code custom_id} that {@link #run} and {@link #answer} read from an input line (also from
     * a line that fails validation but names one), or null when it has none: lines with the same
     * one must be answered together for a repeat to become an error line.
     */
    public static String customIdOf(String line) {
        try {
            return KEY_PARSER.parse(0, line).customId();
        } catch (BadLineException e) {
            return e.customId;
        }
    }

    private static final InputParser KEY_PARSER = new InputParser(new ObjectMapper());

    private Summary process(List<Line> lines, Set<String> doneIds, Set<Integer> doneLines, Sink out, Progress progress) throws IOException {
        AtomicInteger ok = new AtomicInteger(), failed = new AtomicInteger();
        AtomicLong tokens = new AtomicLong();
        try {
            int total = 0, skipped = 0;
            Set<String> seen = new HashSet<>();
            List<BatchItem> pending = new ArrayList<>();
            List<ObjectNode> errors = new ArrayList<>();
            for (Line in : lines) {
                String line = in.text();
                if (line.isBlank()) continue;
                total++;
                int lineNo = in.number();
                try {
                    BatchItem item = parser.parse(lineNo, line);
                    if (doneIds.contains(item.customId())) {
                        skipped++;
                        seen.add(item.customId());
                    } else if (!seen.add(item.customId())) {
                        if (doneLines.contains(lineNo)) skipped++;
                        else errors.add(lineError(lineNo, "duplicate_custom_id", "custom_id '" + item.customId() + "' appears on an earlier line"));
                    } else {
                        pending.add(item);
                    }
                } catch (BadLineException e) {
                    if (e.customId != null && !seen.add(e.customId)) {
                        if (doneLines.contains(lineNo)) skipped++;
                        else errors.add(lineError(lineNo, "duplicate_custom_id", "custom_id '" + e.customId + "' appears on an earlier line"));
                    } else if (e.customId != null ? doneIds.contains(e.customId) : doneLines.contains(lineNo)) {
                        skipped++;
                    } else if (e.customId != null) {
                        errors.add(requestError(e.customId, 400, e.code, e.param, e.getMessage()));
                    } else {
                        errors.add(lineError(lineNo, e.code, e.getMessage()));
                    }
                }
            }
            progress.begin(total, skipped);
            for (ObjectNode e : errors) {
                out.write(output(e, Double.NaN));
                failed.incrementAndGet();
                progress.lineDone(0);
            }

            // Route everything first, then feed each tier's queue.
            Map<String, List<Routed>> byTier = new LinkedHashMap<>();
            for (BatchItem item : pending) {
                Request r = item.chat() ? Request.ofChat(item.model(), item.conversation(), item.sampling())
                        : item.promptIds() != null ? Request.ofTokens(item.model(), item.promptIds(), item.sampling())
                        : Request.of(item.model(), item.prompt(), item.sampling());
                try {
                    Decision d = scheduler.route(r);
                    byTier.computeIfAbsent(d.choice(), k -> new ArrayList<>()).add(new Routed(item, r, d));
                } catch (RuntimeException e) {
                    out.write(output(requestError(item.customId(), 400, "invalid_value", "model", e.getMessage()), Double.NaN));
                    failed.incrementAndGet();
                    progress.lineDone(0);
                }
            }
            List<CompletableFuture<?>> all = new ArrayList<>();
            List<Thread> feeders = new ArrayList<>();
            for (var group : byTier.entrySet()) {
                feeders.add(Thread.ofPlatform().name("gearbox-batch-" + group.getKey()).start(() -> {
                    for (Routed rt : group.getValue()) {
                        CompletableFuture<?> f = feed(rt, out, progress, ok, failed, tokens);
                        synchronized (all) {
                            all.add(f);
                        }
                    }
                }));
            }
            for (Thread t : feeders) t.join();
            List<CompletableFuture<?>> copy;
            synchronized (all) {
                copy = List.copyOf(all);
            }
            CompletableFuture.allOf(copy.toArray(CompletableFuture[]::new)).join();
            return new Summary(total, skipped, ok.get(), failed.get(), tokens.get(), 0);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("batch interrupted", e);
        } catch (CompletionException e) {
            if (e.getCause() instanceof UncheckedIOException u) throw u.getCause();
            throw e;
        }
    }

    private CompletableFuture<?> feed(Routed rt, Sink out, Progress progress, AtomicInteger ok, AtomicInteger failed, AtomicLong tokens) {
        BatchItem item = rt.item();
        RequestHandle h;
        try {
            h = scheduler.submitWaiting(rt.request(), rt.decision());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return write(out, requestError(item.customId(), 500, "interrupted", null, "the batch was interrupted"), progress, failed, 0, Double.NaN);
        } catch (RuntimeException e) {
            return write(out, requestError(item.customId(), 400, "invalid_value", null, e.getMessage()), progress, failed, 0, Double.NaN);
        }
        String requestId = "req_" + hex();
        return h.future().handle((res, err) -> {
            if (err == null) {
                tokens.addAndGet(res.usage().completionTokens());
                ok.incrementAndGet();
                double ms = res.timings() != null ? res.timings().totalNanos() / 1e6 : Double.NaN;
                write(out, success(item, requestId, res), progress, null, res.usage().completionTokens(), ms);
            } else {
                Throwable c = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
                int status = c instanceof RequestCancelledException ? 503 : c instanceof IllegalArgumentException ? 400 : 500;
                write(out, requestError(item.customId(), status, status == 400 ? "invalid_value" : "server_error", null, String.valueOf(c.getMessage())),
                        progress, failed, 0, Double.NaN);
            }
            return null;
        });
    }

    private Output output(ObjectNode line, double latencyMs) throws IOException {
        JsonNode id = line.get("custom_id");
        return new Output(id != null && id.isTextual() ? id.asText() : null, json.writeValueAsString(line), latencyMs);
    }

    private CompletableFuture<?> write(Sink out, ObjectNode line, Progress progress, AtomicInteger failed, long tokens, double latencyMs) {
        try {
            out.write(output(line, latencyMs));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        if (failed != null) failed.incrementAndGet();
        progress.lineDone(tokens);
        return CompletableFuture.completedFuture(null);
    }

    private ObjectNode success(BatchItem item, String requestId, Result r) {
        ObjectNode body = json.createObjectNode();
        long created = System.currentTimeMillis() / 1000;
        ObjectNode choice = json.createObjectNode();
        choice.put("index", 0);
        if (item.chat()) {
            body.put("id", "chatcmpl-" + hex());
            body.put("object", "chat.completion");
            ObjectNode msg = choice.putObject("message");
            msg.put("role", "assistant");
            msg.put("content", r.text());
            msg.putNull("refusal");
        } else {
            body.put("id", "cmpl-" + hex());
            body.put("object", "text_completion");
            choice.put("text", r.text());
        }
        choice.putNull("logprobs");
        choice.put("finish_reason", r.finishReason());
        body.put("created", created);
        body.put("model", r.tier());
        body.putArray("choices").add(choice);
        body.set("usage", RoutingJson.usage(r.usage()));
        body.set("gearbox", RoutingJson.gearbox(r.decision(), r));
        ObjectNode line = json.createObjectNode();
        line.put("id", "batch_req_" + hex());
        line.put("custom_id", item.customId());
        ObjectNode resp = line.putObject("response");
        resp.put("status_code", 200);
        resp.put("request_id", requestId);
        resp.set("body", body);
        line.putNull("error");
        return line;
    }

    private ObjectNode requestError(String customId, int status, String code, String param, String message) {
        ObjectNode line = json.createObjectNode();
        line.put("id", "batch_req_" + hex());
        line.put("custom_id", customId);
        ObjectNode resp = line.putObject("response");
        resp.put("status_code", status);
        resp.put("request_id", "req_" + hex());
        ObjectNode err = resp.putObject("body").putObject("error");
        err.put("message", message);
        err.put("type", status == 400 ? "invalid_request_error" : "server_error");
        if (param != null) err.put("param", param);
        else err.putNull("param");
        err.put("code", code);
        line.putNull("error");
        return line;
    }

    /** A line with no usable custom_id: OpenAI-style top-level error, plus the input line number for resuming. */
    private ObjectNode lineError(int lineNo, String code, String message) {
        ObjectNode line = json.createObjectNode();
        line.put("id", "batch_req_" + hex());
        line.putNull("custom_id");
        line.putNull("response");
        ObjectNode err = line.putObject("error");
        err.put("code", code);
        err.put("message", message);
        err.put("line", lineNo);
        return line;
    }

    private static String hex() {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        return Long.toHexString(r.nextLong() | Long.MIN_VALUE) + Long.toHexString(r.nextLong() | Long.MIN_VALUE).substring(0, 8);
    }

    /** Input lines, undecodable bytes replaced (the line then fails as bad JSON or runs as written). */
    private static List<String> readLines(Path input) throws IOException {
        var dec = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPLACE).onUnmappableCharacter(CodingErrorAction.REPLACE);
        List<String> out = new ArrayList<>();
        try (BufferedReader r = new BufferedReader(new InputStreamReader(Files.newInputStream(input), dec))) {
            for (String l; (l = r.readLine()) != null; ) out.add(l);
        }
        return out;
    }
}
