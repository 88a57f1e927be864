package dev.gearbox.server;

import dev.gearbox.router.Decision;
import dev.gearbox.schedule.Result;
import dev.gearbox.schedule.Timings;
import dev.gearbox.schedule.Usage;

import com.fasterxml.jackson.databind.JsonNode;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.Socket;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.BiFunction;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * What the HTTP layer does when the engine is full, fails, is slow or the client goes away:
 * an engine under the test's control makes each case happen every time.
 */
class ServerFaultsTest {
    private GearboxServer server;

    /** An engine whose submit does what the test says. */
    private static final class ScriptedEngine implements CompletionEngine {
        final BiFunction<CompletionJob, CompletionListener, Ticket> onSubmit;
        ScriptedEngine(BiFunction<CompletionJob, CompletionListener, Ticket> onSubmit) { this.onSubmit = onSubmit; }
        @Override public List<String> tierNames() { return List.of("s"); }
        @Override public Ticket submit(CompletionJob job, CompletionListener l) { return onSubmit.apply(job, l); }
        @Override public int queueDepth() { return 0; }
        @Override public double kvCacheUsage() { return 0; }
        @Override public void close() {}
    }

    private Http start(BiFunction<CompletionJob, CompletionListener, CompletionEngine.Ticket> onSubmit) {
        server = new GearboxServer(new ScriptedEngine(onSubmit), 8, new GearboxServer.Settings("127.0.0.1", 0, 1 << 16, 10_000));
        return new Http(server.port());
    }

    @AfterEach
    void stop() {
        if (server != null) server.close();
    }

    private static Result outcome(int tokens) {
        return new Result("", new int[tokens], new float[tokens], new Usage(3, tokens), "stop", "s",
                Decision.forced(List.of("s"), "s"), List.of(), new Timings(0, 0, -1, 0), null);
    }

    @Test
    void fullQueueIs429WithRetryAfter() throws Exception {
        Http http = start((job, l) -> { throw ApiError.queueFull(3); });
        HttpResponse<String> r = http.post("/v1/completions", "{\"model\":\"s\",\"prompt\":\"x\",\"stream\":true}");
        assertThat(r.statusCode()).isEqualTo(429);
        assertThat(r.headers().firstValue("retry-after")).hasValue("3");
        assertThat(Http.json(r).get("error").get("type").asText()).isEqualTo("rate_limit_error");
    }

    @Test
    void engineFailureIs500WithoutAStackTrace() throws Exception {
        Http http = start((job, l) -> {
            l.routed(new Routing("s", null));
            l.failed(new NullPointerException("secret internals"));
            return () -> {};
        });
        HttpResponse<String> r = http.post("/v1/completions", "{\"model\":\"s\",\"prompt\":\"x\"}");
        assertThat(r.statusCode()).isEqualTo(500);
        assertThat(Http.json(r).get("error").get("type").asText()).isEqualTo("server_error");
        assertThat(r.body()).doesNotContain("secret").doesNotContain("NullPointer").doesNotContain("\tat ");
        server.close();
        server = null;
        Http http2 = start((job, l) -> { throw new IllegalStateException("boom at dev.gearbox.X"); });
        HttpResponse<String> r2 = http2.post("/v1/chat/completions", "{\"model\":\"s\",\"messages\":[{\"role\":\"user\",\"content\":\"x\"}]}");
        assertThat(r2.statusCode()).isEqualTo(500);
        assertThat(r2.body()).doesNotContain("boom");
    }

    @Test
    void clientDisconnectDuringAStreamCancelsTheRequest() throws Exception {
        CountDownLatch cancelled = new CountDownLatch(1);
        AtomicBoolean stop = new AtomicBoolean();
        start((job, l) -> {
            l.routed(new Routing("s", null));
            Thread.ofVirtual().start(() -> {
                // An endless answer: only cancellation ends it.
                while (!stop.get()) {
                    l.text("x");
                    try { Thread.sleep(20); } catch (InterruptedException e) { return; }
                }
            });
            return () -> { stop.set(true); cancelled.countDown(); };
        });
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            String body = "{\"model\":\"s\",\"prompt\":\"x\",\"stream\":true}";
            OutputStream out = s.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            String line;
            int data = 0;
            while ((line = in.readLine()) != null && data < 3) if (line.startsWith("data: ")) data++;
            assertThat(data).isEqualTo(3);
        }   // the client hangs up mid-stream
        assertThat(cancelled.await(10, TimeUnit.SECONDS)).as("the engine's request was cancelled").isTrue();
    }

    @Test
    void streamsCutAtTheDrainTimeoutEndWithAnErrorEventAndDone() throws Exception {
        CountDownLatch cancelled = new CountDownLatch(1);
        AtomicBoolean stop = new AtomicBoolean();
        server = new GearboxServer(new ScriptedEngine((job, l) -> {
            l.routed(new Routing("s", null));
            Thread.ofVirtual().start(() -> {
                while (!stop.get()) {   // an answer that never ends on its own
                    l.text("x");
                    try { Thread.sleep(20); } catch (InterruptedException e) { return; }
                }
            });
            return () -> { stop.set(true); cancelled.countDown(); };
        }), 8, new GearboxServer.Settings("127.0.0.1", 0, 1 << 16, 300));
        List<String> data = new java.util.ArrayList<>();
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(20_000);
            String body = "{\"model\":\"s\",\"prompt\":\"x\",\"stream\":true}";
            OutputStream out = s.getOutputStream();
            out.write(("POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: "
                    + body.getBytes(StandardCharsets.UTF_8).length + "\r\n\r\n" + body).getBytes(StandardCharsets.UTF_8));
            out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(s.getInputStream(), StandardCharsets.UTF_8));
            String line;
            Thread closer = null;
            while ((line = in.readLine()) != null) {
                if (!line.startsWith("data: ")) continue;
                data.add(line.substring(6));
                if (data.size() == 3) closer = Thread.ofPlatform().start(server::close);   // drains for 300 ms, then cuts
                if (line.equals("data: [DONE]")) break;
            }
            assertThat(closer).isNotNull();
            closer.join(20_000);
        }
        server = null;
        assertThat(data.getLast()).isEqualTo("[DONE]");
        JsonNode error = Http.JSON.readTree(data.get(data.size() - 2)).get("error");
        assertThat(error).as(data.toString()).isNotNull();
        assertThat(error.get("code").asText()).isEqualTo("shutting_down");
        assertThat(error.get("type").asText()).isEqualTo("server_error");
        assertThat(cancelled.await(10, TimeUnit.SECONDS)).as("the engine's request was cancelled").isTrue();
    }

    @Test
    void wholeAnswersCutAtTheDrainTimeoutAre503() throws Exception {
        // an engine that never answers, a drain of 300 ms
        server = new GearboxServer(new ScriptedEngine((job, l) -> { l.routed(new Routing("s", null)); return () -> {}; }), 8,
                new GearboxServer.Settings("127.0.0.1", 0, 1 << 16, 300));
        Http slow = new Http(server.port());
        CompletableFuture<HttpResponse<String>> r = CompletableFuture.supplyAsync(() -> {
            try {
                return slow.post("/v1/completions", "{\"model\":\"s\",\"prompt\":\"x\"}");
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        Thread.sleep(300);
        server.close();
        server = null;
        HttpResponse<String> cut = r.get(20, TimeUnit.SECONDS);
        assertThat(cut.statusCode()).isEqualTo(503);
        assertThat(Http.json(cut).get("error").get("code").asText()).isEqualTo("shutting_down");
    }

    @Test
    void closeDrainsRequestsInFlightAndRefusesNewOnes() throws Exception {
        CountDownLatch started = new CountDownLatch(1);
        Http http = start((job, l) -> {
            l.routed(new Routing("s", null));
            started.countDown();
            Thread.ofVirtual().start(() -> {
                try { Thread.sleep(800); } catch (InterruptedException e) { return; }
                l.text("done");
                l.done(outcome(1));
            });
            return () -> {};
        });
        CompletableFuture<HttpResponse<String>> inFlight = CompletableFuture.supplyAsync(() -> {
            try {
                return http.post("/v1/completions", "{\"model\":\"s\",\"prompt\":\"x\"}");
            } catch (Exception e) {
                throw new RuntimeException(e);
            }
        });
        assertThat(started.await(10, TimeUnit.SECONDS)).isTrue();
        Thread closer = Thread.ofPlatform().start(server::close);
        Thread.sleep(200);   // close() is now draining
        HttpResponse<String> refused = http.post("/v1/completions", "{\"model\":\"s\",\"prompt\":\"x\"}");
        assertThat(refused.statusCode()).isEqualTo(503);
        HttpResponse<String> r = inFlight.get(20, TimeUnit.SECONDS);
        assertThat(r.statusCode()).isEqualTo(200);
        JsonNode b = Http.json(r);
        assertThat(b.get("choices").get(0).get("text").asText()).isEqualTo("done");
        closer.join(20_000);
        assertThat(closer.isAlive()).isFalse();
        server = null;
    }
}
