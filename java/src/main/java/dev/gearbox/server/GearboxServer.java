package dev.gearbox.server;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gearbox.api.RoutingJson;
import dev.gearbox.generate.TokenLogprob;
import dev.gearbox.router.Decision;
import dev.gearbox.schedule.Result;
import io.javalin.Javalin;
import io.javalin.compression.CompressionStrategy;
import io.javalin.http.Context;
import io.javalin.http.HttpResponseException;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Gearbox's OpenAI-compatible HTTP server (Javalin): chat and text completions, streamed as
 * server-sent events or whole, the models, health and Prometheus metrics. Every answer says
 * where it was routed: a {@code gearbox} object in the body and the {@code x-gearbox-tier} header.
 *
 * <p>{@link #close()} drains: new requests get 503 while those in flight finish (up to the drain
 * timeout), then the HTTP server and the engine stop.
 */
public final class GearboxServer implements AutoCloseable {
    public static final String TIER_HEADER = "x-gearbox-tier";
    /** Longest a request waits for the engine's next report before it is failed (a stuck engine must not hang clients). */
    private static final long EVENT_TIMEOUT_MS = 300_000;
    /**
     * How long a stream waits after its routing decision before the headers go out: a request its
     * tier can never take (a prompt over the context) fails right after routing, and should be an
     * HTTP 400 rather than a 200 stream that carries an error.
     */
    private static final long PLACEMENT_GRACE_MS = 250;

    private final CompletionEngine engine;
    private final int defaultMaxTokens;
    private final ObjectMapper json = new ObjectMapper();
    private final ServerMetrics metrics;
    private final AtomicInteger inFlight = new AtomicInteger();
    private final Cutoff cutoff = new Cutoff();
    private final Object drainLock = new Object();
    private volatile boolean draining;
    private final long drainMillis;
    private final Javalin app;
    private boolean closed;

    /** Settings: where to listen, the largest body accepted, how long close() waits for requests in flight, who may connect. */
    public record Settings(String host, int port, long maxBodyBytes, long drainMillis, Security.Options security) {
        public Settings(String host, int port, long maxBodyBytes, long drainMillis) {
            this(host, port, maxBodyBytes, drainMillis, Security.Options.open());
        }

        public static Settings loopback(int port) { return new Settings("127.0.0.1", port, 1 << 20, 30_000); }

        public Settings withSecurity(Security.Options o) { return new Settings(host, port, maxBodyBytes, drainMillis, o); }
    }

    public GearboxServer(CompletionEngine engine, int defaultMaxTokens, Settings settings) {
        this.engine = engine;
        this.defaultMaxTokens = defaultMaxTokens;
        this.drainMillis = settings.drainMillis();
        this.metrics = new ServerMetrics(engine, inFlight::get);
        Security security = new Security(settings.security(), settings.host());
        app = Javalin.create(config -> {
            config.startup.showJavalinBanner = false;
            config.startup.showOldJavalinVersionWarning = false;
            config.http.maxRequestSize = settings.maxBodyBytes();
            config.http.compressionStrategy = CompressionStrategy.NONE;   // SSE must not sit in a gzip buffer
            config.http.prefer405over404 = true;
            config.concurrency.useVirtualThreads = true;                  // a blocked stream costs no platform thread
            config.jetty.host = settings.host();
            config.jetty.port = settings.port();
            config.jetty.modifyServer(server -> server.setErrorHandler(new JettyErrors()));   // Jetty's own errors as JSON
            config.routes.before(security::check);
            config.routes.post("/v1/chat/completions", ctx -> completion(ctx, true));
            config.routes.post("/v1/completions", ctx -> completion(ctx, false));
            config.routes.get("/v1/models", this::models);
            config.routes.get("/v1/models/{id}", this::model);
            TemplateEndpoints templates = new TemplateEndpoints(engine, json);
            config.routes.post("/apply-template", templates::applyTemplate);
            config.routes.post("/tokenize", templates::tokenize);
            config.routes.post("/detokenize", templates::detokenize);
            config.routes.get("/health", this::health);
            config.routes.get("/metrics", ctx -> ctx.contentType("text/plain; version=0.0.4; charset=utf-8").result(metrics.scrape()));
            config.routes.exception(ApiError.class, (e, ctx) -> error(ctx, e));
            config.routes.exception(HttpResponseException.class, (e, ctx) -> error(ctx, fromHttp(e.getStatus(), e.getMessage())));
            config.routes.exception(Exception.class, (e, ctx) -> {
                if (ClientGone.is(e)) {
                    ClientGone.log(ctx, e);
                    ctx.status(ClientGone.STATUS);
                    return;
                }
                System.err.println("gearbox serve: internal error on " + ctx.method() + " " + ctx.path() + ": " + e);
                error(ctx, new ApiError(500, "server_error", null, null, "Internal server error"));
            });
            config.routes.error(404, ctx -> { if (!answered(ctx)) error(ctx, fromHttp(404, "Unknown endpoint " + ctx.method() + " " + ctx.path())); });
            config.routes.error(405, ctx -> { if (!answered(ctx)) error(ctx, fromHttp(405, "Method " + ctx.method() + " is not allowed on " + ctx.path())); });
            config.routes.after(ctx -> metrics.request(endpointLabel(ctx), ctx.statusCode()));
        });
        app.start();
    }

    public int port() { return app.port(); }

    public ServerMetrics metrics() { return metrics; }

    // ---- endpoints ----

    private void health(Context ctx) {
        ObjectNode o = json.createObjectNode();
        o.put("status", draining ? "draining" : "ok");
        o.put("in_flight", inFlight.get());
        o.put("queue_depth", engine.queueDepth());
        ctx.status(draining ? 503 : 200).contentType("application/json").result(o.toString());
    }

    private void models(Context ctx) {
        ObjectNode o = json.createObjectNode();
        o.put("object", "list");
        ArrayNode data = o.putArray("data");
        for (String id : modelIds()) data.add(modelObject(id));
        ctx.contentType("application/json").result(o.toString());
    }

    /** GET /v1/models/{id}: OpenAI's model object, or 404 model_not_found. */
    private void model(Context ctx) {
        String id = ctx.pathParam("id");
        if (!modelIds().contains(id)) throw ApiError.unknownModel(id, engine.unknownModel(id));
        ctx.contentType("application/json").result(modelObject(id).toString());
    }

    private ObjectNode modelObject(String id) {
        ObjectNode m = json.createObjectNode();
        m.put("id", id);
        m.put("object", "model");
        m.put("created", 0);
        m.put("owned_by", "gearbox");
        var details = engine.modelDetails(id);
        if (!details.isEmpty()) m.set("gearbox", json.valueToTree(details));
        return m;
    }

    private List<String> modelIds() {
        var ids = new java.util.ArrayList<>(engine.tierNames());
        ids.add(CompletionJob.AUTO);
        return ids;
    }

    private void completion(Context ctx, boolean chat) throws Exception {
        if (draining) throw ApiError.unavailable("the server is shutting down");
        OpenAiRequest req = OpenAiRequest.parse(json, RequestBody.text(ctx), chat);
        if (!modelIds().contains(req.model())) throw ApiError.unknownModel(req.model(), engine.unknownModel(req.model()));
        CompletionJob job = req.job(defaultMaxTokens);
        Session session = new Session();
        long accepted = System.nanoTime();
        inFlight.incrementAndGet();
        try {
            CompletionEngine.Ticket ticket = engine.submit(job, session);
            Reply reply = new Reply(req, chat, accepted);
            Cutoff.Handle registered = cutoff.register(session, ticket);
            try {
                if (req.stream()) stream(ctx, reply, session, ticket);
                else whole(ctx, reply, session, ticket);
            } finally {
                registered.close();
            }
        } catch (ApiError e) {
            // Written here, not by the exception handler after return, so that a draining close()
            // cannot stop the server between the count going to zero and the bytes going out.
            error(ctx, e.onEndpoint(chat));
            commit(ctx);
        } finally {
            if (inFlight.decrementAndGet() == 0) synchronized (drainLock) { drainLock.notifyAll(); }
        }
    }

    /** What one response accumulates while the engine reports. */
    private final class Reply {
        final OpenAiRequest req;
        final boolean chat;
        final long accepted;
        final String id;
        final long created = System.currentTimeMillis() / 1000;
        Routing routing;
        final Choice[] choices;
        long firstText = -1, lastText = -1;
        int pieces, finished;

        /** One choice's answer as it arrives. */
        final class Choice {
            final int index;
            final StringBuilder text = new StringBuilder();
            final List<TokenLogprob> pendingLogprobs = new java.util.ArrayList<>();
            int logprobOffset;
            Result result;

            Choice(int index) { this.index = index; }
        }

        /** Whether the answer is read for tool calls (chat with tools, tool_choice not none). */
        boolean toolsActive() { return chat && req.tools() != null && req.tools().active(); }

        /** The calls in the answer when tools are active, else null. */
        ToolCalls.Parsed toolCalls(String answer) { return toolsActive() ? req.tools().read(answer) : null; }

        Reply(OpenAiRequest req, boolean chat, long accepted) {
            this.req = req;
            this.chat = chat;
            this.accepted = accepted;
            this.choices = new Choice[req.n()];
            for (int i = 0; i < choices.length; i++) choices[i] = new Choice(i);
            this.id = (chat ? "chatcmpl-" : "cmpl-") + UUID.randomUUID().toString().replace("-", "");
        }

        void routed(Routing r) {
            routing = r;
            metrics.routed(r.tier());
        }

        void text(int choice, String delta) {
            long now = System.nanoTime();
            if (firstText < 0) metrics.firstTokenNanos(now - accepted);
            firstText = firstText < 0 ? now : firstText;
            lastText = now;
            pieces++;
            choices[choice].text.append(delta);
        }

        /** Records a finished choice; true when it was the last one. */
        boolean done(int choice, Result o) {
            choices[choice].result = o;
            int completion = o.usage().completionTokens();
            metrics.tokens(choice == 0 ? o.usage().promptTokens() : 0, completion);
            if (choice == 0 && o.decision() != null && !"forced".equals(o.decision().source())) metrics.gatekeeperNanos(o.decision().nanos());
            if (choices.length == 1 && completion > 1 && firstText >= 0 && lastText > firstText)
                metrics.perOutputTokenNanos((lastText - firstText) / (completion - 1));
            return ++finished == choices.length;
        }

        /** The request's usage: the prompt once, every choice's answer tokens. */
        ObjectNode usage() {
            int completion = 0;
            for (Choice c : choices) completion += c.result.usage().completionTokens();
            var u0 = choices[0].result.usage();
            return RoutingJson.usage(new dev.gearbox.schedule.Usage(u0.promptTokens(), completion, u0.cachedTokens()));
        }

        ObjectNode envelope(String object) {
            ObjectNode o = json.createObjectNode();
            o.put("id", id);
            o.put("object", object);
            o.put("created", created);
            o.put("model", routing != null ? routing.model() : req.model());
            return o;
        }
    }

    private Session.Event next(Session s) throws InterruptedException {
        Session.Event e = s.next(EVENT_TIMEOUT_MS);
        if (e == null) throw new IllegalStateException("the engine reported nothing for " + EVENT_TIMEOUT_MS / 1000 + " s");
        return e;
    }

    private void whole(Context ctx, Reply r, Session s, CompletionEngine.Ticket ticket) throws InterruptedException {
        try {
            while (true) {
                switch (next(s)) {
                    case Session.Routed e -> r.routed(e.routing());
                    case Session.Text e -> r.text(e.choice(), e.delta());
                    case Session.Logprobs e -> { }   // a whole answer takes them from the result
                    case Session.Failed e -> throw failure(e.error());
                    case Session.Done e -> {
                        if (!r.done(e.choice(), e.result())) continue;
                        Result o = r.choices[0].result;
                        ObjectNode body = r.envelope(r.chat ? "chat.completion" : "text_completion");
                        // a whole answer names the tier that produced it, as tier:task when it ran with that tier's expert
                        body.put("model", o.expert() != null ? o.tier() + ":" + o.expert() : o.tier());
                        ArrayNode choices = body.putArray("choices");
                        for (Reply.Choice c : r.choices) choices.add(wholeChoice(r, c));
                        body.set("usage", r.usage());
                        body.set("gearbox", gearbox(r.routing, o));
                        ctx.header(TIER_HEADER, r.routing != null ? r.routing.tier() : o.decision().choice());
                        ctx.contentType("application/json").result(body.toString());
                        commit(ctx);
                        return;
                    }
                }
            }
        } catch (InterruptedException | RuntimeException ex) {
            ticket.cancel();
            throw ex;
        }
    }

    /** One choice of a whole answer: the message (or text), its tool calls, log-probabilities and finish reason. */
    private ObjectNode wholeChoice(Reply r, Reply.Choice c) {
        Result o = c.result;
        ObjectNode choice = json.createObjectNode();
        choice.put("index", c.index);
        String finish = o.finishReason();
        String text = c.text.toString();
        if (r.chat) {
            ObjectNode msg = choice.putObject("message");
            msg.put("role", "assistant");
            ToolCalls.Parsed calls = r.toolCalls(text);
            if (calls != null && !calls.calls().isEmpty()) {
                if (calls.content().isEmpty()) msg.putNull("content");
                else msg.put("content", calls.content());
                msg.set("tool_calls", ToolCalls.json(calls.calls(), false));
                finish = "tool_calls";
            } else {
                msg.put("content", text);
            }
        } else {
            choice.put("text", text);
        }
        if (o.tokenLogprobs() == null) choice.putNull("logprobs");
        else choice.set("logprobs", logprobs(r, c, o.tokenLogprobs()));
        choice.put("finish_reason", finish);
        return choice;
    }

    private void stream(Context ctx, Reply r, Session s, CompletionEngine.Ticket ticket) throws Exception {
        OutputStream out = null;
        try {
            while (true) {
                Session.Event ev = next(s);
                if (out == null) {
                    if (ev instanceof Session.Failed f) throw failure(f.error());   // nothing sent yet: a plain error response
                    if (ev instanceof Session.Routed e) {
                        r.routed(e.routing());
                        if (s.peek(PLACEMENT_GRACE_MS) instanceof Session.Failed f) throw failure(f.error());
                    }
                    // Headers go out with the first event, the tier among them.
                    ctx.status(200);
                    ctx.header(TIER_HEADER, r.routing != null ? r.routing.tier() : "");
                    ctx.header("Cache-Control", "no-cache");
                    ctx.header("X-Accel-Buffering", "no");
                    ctx.contentType("text/event-stream; charset=utf-8");
                    out = ctx.res().getOutputStream();
                    for (Reply.Choice c : r.choices) {
                        ObjectNode first = chunk(r, c.index, r.chat ? json.createObjectNode().put("role", "assistant").put("content", "") : null, "", null);
                        if (c.index == 0) first.set("gearbox", gearbox(r.routing, null));
                        send(out, first.toString());
                    }
                    if (ev instanceof Session.Routed) continue;
                }
                switch (ev) {
                    case Session.Routed e -> r.routed(e.routing());
                    case Session.Logprobs e -> r.choices[e.choice()].pendingLogprobs.addAll(e.tokens());
                    case Session.Text e -> {
                        r.text(e.choice(), e.delta());
                        // With tools, the answer may turn out to be calls: it goes out whole at the end, as content or tool_calls.
                        if (r.toolsActive()) continue;
                        ObjectNode c = chunk(r, e.choice(), r.chat ? json.createObjectNode().put("content", e.delta()) : null, e.delta(), null);
                        attachLogprobs(r, r.choices[e.choice()], c);
                        send(out, c.toString());
                    }
                    case Session.Failed e -> {
                        // The status is already 200: the error is the stream's last event, then its end marker.
                        send(out, errorBody(failure(e.error()).onEndpoint(r.chat)).toString());
                        send(out, "[DONE]");
                        return;
                    }
                    case Session.Done e -> {
                        Reply.Choice ch = r.choices[e.choice()];
                        boolean all = r.done(e.choice(), e.result());
                        Result o = e.result();
                        String finish = o.finishReason();
                        if (r.toolsActive()) {
                            ToolCalls.Parsed calls = r.toolCalls(ch.text.toString());
                            ObjectNode delta = json.createObjectNode();
                            if (!calls.calls().isEmpty()) {
                                delta.set("tool_calls", ToolCalls.json(calls.calls(), true));
                                if (!calls.content().isEmpty()) delta.put("content", calls.content());
                                finish = "tool_calls";
                            } else {
                                delta.put("content", ch.text.toString());
                            }
                            ObjectNode c = chunk(r, ch.index, delta, "", null);
                            attachLogprobs(r, ch, c);
                            send(out, c.toString());
                        }
                        ObjectNode last = chunk(r, ch.index, r.chat ? json.createObjectNode() : null, "", finish);
                        attachLogprobs(r, ch, last);   // tokens whose text never showed (a held-back stop-string prefix)
                        if (all) last.set("gearbox", gearbox(r.routing, r.choices[0].result));
                        send(out, last.toString());
                        if (!all) continue;
                        if (r.req.includeUsage()) {
                            ObjectNode u = r.envelope(r.chat ? "chat.completion.chunk" : "text_completion");
                            u.putArray("choices");
                            u.set("usage", r.usage());
                            send(out, u.toString());
                        }
                        send(out, "[DONE]");
                        return;
                    }
                }
            }
        } catch (IOException gone) {
            // The client went away: stop generating for it at once.
            ticket.cancel();
        } catch (InterruptedException | RuntimeException ex) {
            ticket.cancel();
            throw ex;
        }
    }

    /** Sends the result now (status, headers, body), before the handler returns and the in-flight count drops. */
    private static void commit(Context ctx) {
        try {
            byte[] bytes = ctx.result() == null ? new byte[0] : ctx.result().getBytes(StandardCharsets.UTF_8);
            ctx.result("");
            ctx.res().setContentLength(bytes.length);
            OutputStream out = ctx.res().getOutputStream();
            out.write(bytes);
            out.flush();
        } catch (IOException gone) {
            // The client went away; nothing left to tell it.
        }
    }

    private ObjectNode chunk(Reply r, int index, ObjectNode delta, String text, String finish) {
        ObjectNode o = r.envelope(r.chat ? "chat.completion.chunk" : "text_completion");
        ObjectNode c = o.putArray("choices").addObject();
        c.put("index", index);
        if (r.chat) c.set("delta", delta);
        else c.put("text", text);
        c.putNull("logprobs");
        if (finish == null) c.putNull("finish_reason");
        else c.put("finish_reason", finish);
        return o;
    }

    /** Per-token log-probabilities in the endpoint's shape; the choice's offset counts its streamed text for text_offset. */
    private ObjectNode logprobs(Reply r, Reply.Choice c, List<TokenLogprob> tokens) {
        if (r.chat) return LogprobsJson.chat(tokens);
        ObjectNode o = LogprobsJson.completion(tokens, c.logprobOffset, r.req.topLogprobs() > 0);
        for (TokenLogprob t : tokens) c.logprobOffset += t.token().length();
        return o;
    }

    /** Puts the log-probabilities a choice reported since its last chunk into this one (streams). */
    private void attachLogprobs(Reply r, Reply.Choice c, ObjectNode chunk) {
        if (r.req.topLogprobs() < 0 || c.pendingLogprobs.isEmpty()) return;
        ((ObjectNode) chunk.get("choices").get(0)).set("logprobs", logprobs(r, c, c.pendingLogprobs));
        c.pendingLogprobs.clear();
    }

    private static void send(OutputStream out, String data) throws IOException {
        out.write(("data: " + data + "\n\n").getBytes(StandardCharsets.UTF_8));
        out.flush();
    }

    private ObjectNode usage(Result o) {
        return RoutingJson.usage(o.usage());
    }

    /** The {@code gearbox} object (docs/server.md): the routing decision; with {@code result}, the final tier and the hops too. */
    private ObjectNode gearbox(Routing routing, Result result) {
        if (routing == null) return json.createObjectNode();
        Decision d = result != null && result.decision() != null ? result.decision() : routing.decision();
        ObjectNode g = RoutingJson.gearbox(d, result);
        if (d == null) g.put("tier", routing.tier());
        return g;
    }

    // ---- errors ----

    private static ApiError failure(Throwable t) {
        if (SchedulerEngine.apiError(t) instanceof ApiError a) return a;
        if (t instanceof IllegalArgumentException) return new ApiError(400, "invalid_request_error", null, null, t.getMessage());
        System.err.println("gearbox serve: generation failed: " + t);
        return new ApiError(500, "server_error", null, null, "Internal server error");
    }

    private static ApiError fromHttp(int status, String message) {
        String type = switch (status) {
            case 404 -> "not_found_error";
            case 413 -> "invalid_request_error";
            case 429 -> "rate_limit_error";
            default -> status >= 500 ? "server_error" : "invalid_request_error";
        };
        String msg = switch (status) {
            case 413 -> "The request body is too large";
            default -> message == null || message.isBlank() ? "HTTP " + status : message;
        };
        return new ApiError(status, type, null, status == 413 ? "request_too_large" : null, msg);
    }

    private static final String ANSWERED = "gearbox.error";

    private static boolean answered(Context ctx) { return ctx.attribute(ANSWERED) != null; }

    private ObjectNode errorBody(ApiError e) {
        ObjectNode o = json.createObjectNode();
        ObjectNode err = o.putObject("error");
        err.put("message", e.getMessage());
        err.put("type", e.type());
        if (e.param() == null) err.putNull("param"); else err.put("param", e.param());
        if (e.code() == null) err.putNull("code"); else err.put("code", e.code());
        return o;
    }

    private void error(Context ctx, ApiError e) {
        ctx.attribute(ANSWERED, true);
        if (e.retryAfterSeconds() != null) ctx.header("Retry-After", Integer.toString(e.retryAfterSeconds()));
        ctx.status(e.status()).contentType("application/json").result(errorBody(e).toString());
    }

    private static String endpointLabel(Context ctx) {
        String p = ctx.path();
        return switch (p) {
            case "/v1/chat/completions", "/v1/completions", "/v1/models", "/health", "/metrics", "/apply-template", "/tokenize", "/detokenize" -> p;
            default -> p.startsWith("/v1/models/") ? "/v1/models/{id}" : "other";   // bounded label values whatever paths clients try
        };
    }

    // ---- shutdown ----

    /** How long requests cut at the drain timeout get to write their error. */
    private static final long CUT_MILLIS = 2_000;

    private void awaitIdle(long millis) {
        long deadline = System.currentTimeMillis() + millis;
        synchronized (drainLock) {
            while (inFlight.get() > 0 && System.currentTimeMillis() < deadline) {
                try {
                    drainLock.wait(Math.max(1, Math.min(100, deadline - System.currentTimeMillis())));
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    return;
                }
            }
        }
    }

    /** Refuses new requests, waits for those in flight (up to the drain timeout), then stops. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        draining = true;
        awaitIdle(drainMillis);
        // Out of time: requests still in flight are ended with an error they can report (a stream's
        // error event and [DONE]) rather than cut mid-answer by the connectors closing.
        if (inFlight.get() > 0 && cutoff.cutAll() > 0) awaitIdle(CUT_MILLIS);
        // Answers are flushed before the count drops; this pause lets Jetty end those exchanges
        // (the last chunk of a chunked stream) before its connectors close.
        try {
            Thread.sleep(200);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        app.stop();
        engine.close();
    }
}
