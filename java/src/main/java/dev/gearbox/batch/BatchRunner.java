package dev.gearbox.batch;

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

    public Summary run(Path input, Path output, Progress progress) throws IOException {
        if (!Files.isRegularFile(input)) throw new IOException("batch input " + input + " not found or not a file");
        AtomicInteger ok = new AtomicInteger(), failed = new AtomicInteger();
        AtomicLong tokens = new AtomicLong();
        try (BatchOutput out = new BatchOutput(output, json)) {
            List<String> lines = readLines(input);
            int total = 0, skipped = 0;
            Set<String> seen = new HashSet<>();
            List<BatchItem> pending = new ArrayList<>();
            List<ObjectNode> errors = new ArrayList<>();
            for (int i = 0; i < lines.size(); i++) {
                String line = lines.get(i);
                if (line.isBlank()) continue;
                total++;
                int lineNo = i + 1;
                try {
                    BatchItem item = parser.parse(lineNo, line);
                    if (out.doneIds.contains(item.customId())) {
                        skipped++;
                        seen.add(item.customId());
                    } else if (!seen.add(item.customId())) {
                        if (out.doneLines.contains(lineNo)) skipped++;
                        else errors.add(lineError(lineNo, "duplicate_custom_id", "custom_id '" + item.customId() + "' appears on an earlier line"));
                    } else {
                        pending.add(item);
                    }
                } catch (BadLineException e) {
                    if (e.customId != null && !seen.add(e.customId)) {
                        if (out.doneLines.contains(lineNo)) skipped++;
                        else errors.add(lineError(lineNo, "duplicate_custom_id", "custom_id '" + e.customId + "' appears on an earlier line"));
                    } else if (e.customId != null ? out.doneIds.contains(e.customId) : out.doneLines.contains(lineNo)) {
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
                out.append(json.writeValueAsString(e));
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
                    out.append(json.writeValueAsString(requestError(item.customId(), 400, "invalid_value", "model", e.getMessage())));
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
            return new Summary(total, skipped, ok.get(), failed.get(), tokens.get(), out.repairedBytes);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IOException("batch interrupted", e);
        } catch (CompletionException e) {
            if (e.getCause() instanceof UncheckedIOException u) throw u.getCause();
            throw e;
        }
    }

    private CompletableFuture<?> feed(Routed rt, BatchOutput out, Progress progress, AtomicInteger ok, AtomicInteger failed, AtomicLong tokens) {
        BatchItem item = rt.item();
        RequestHandle h;
        try {
            h = scheduler.submitWaiting(rt.request(), rt.decision());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return write(out, requestError(item.customId(), 500, "interrupted", null, "the batch was interrupted"), progress, failed, 0);
        } catch (RuntimeException e) {
            return write(out, requestError(item.customId(), 400, "invalid_value", null, e.getMessage()), progress, failed, 0);
        }
        String requestId = "req_" + hex();
        return h.future().handle((res, err) -> {
            if (err == null) {
                tokens.addAndGet(res.usage().completionTokens());
                ok.incrementAndGet();
                write(out, success(item, requestId, res), progress, null, res.usage().completionTokens());
            } else {
                Throwable c = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
                int status = c instanceof RequestCancelledException ? 503 : c instanceof IllegalArgumentException ? 400 : 500;
                write(out, requestError(item.customId(), status, status == 400 ? "invalid_value" : "server_error", null, String.valueOf(c.getMessage())),
                        progress, failed, 0);
            }
            return null;
        });
    }

    private CompletableFuture<?> write(BatchOutput out, ObjectNode line, Progress progress, AtomicInteger failed, long tokens) {
        try {
            out.append(json.writeValueAsString(line));
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
