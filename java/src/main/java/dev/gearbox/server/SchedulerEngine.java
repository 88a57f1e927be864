package dev.gearbox.server;

import dev.gearbox.generate.TokenLogprob;
import dev.gearbox.router.Decision;
import dev.gearbox.sample.SamplingParams;
import dev.gearbox.schedule.CapacityException;
import dev.gearbox.schedule.QueueFullException;
import dev.gearbox.schedule.Request;
import dev.gearbox.schedule.RequestCancelledException;
import dev.gearbox.schedule.RequestHandle;
import dev.gearbox.schedule.Result;
import dev.gearbox.schedule.Scheduler;
import dev.gearbox.schedule.StreamListener;
import dev.gearbox.ladder.Tier;
import dev.gearbox.tokenizer.Vocabularies;

import java.util.List;
import java.util.concurrent.CompletionException;

/**
 * The server's engine on Gearbox's scheduler: continuous batching per tier, KV accounting,
 * bounded queues (429), escalation and the ensemble, cancellation when the client goes away.
 */
public final class SchedulerEngine implements CompletionEngine {
    private final Scheduler scheduler;
    private final List<String> tiers;

    public SchedulerEngine(Scheduler scheduler) {
        this.scheduler = scheduler;
        this.tiers = scheduler.models().stream().filter(m -> !Request.AUTO.equals(m)).toList();
    }

    @Override
    public List<String> tierNames() { return tiers; }

    @Override
    public int queueDepth() {
        return scheduler.stats().stream().mapToInt(Scheduler.TierStats::queued).sum();
    }

    @Override
    public int runningRequests() {
        return scheduler.stats().stream().mapToInt(Scheduler.TierStats::running).sum();
    }

    @Override
    public double kvCacheUsage() {
        long used = 0, budget = 0;
        for (var s : scheduler.stats()) {
            used += s.kvBytesUsed();
            budget += s.kvBytesBudget();
        }
        return budget == 0 ? 0 : (double) used / budget;
    }

    /** The tier a model id runs on: {@code m} and {@code m:task} both name tier m. */
    private dev.gearbox.ladder.Tier tierFor(String model) {
        if (model == null || model.equals(CompletionJob.AUTO)) return scheduler.ladder().tier(0);
        if (!tiers.contains(model) || Decision.ENSEMBLE.equals(model)) throw ApiError.unknownModel(model, unknownModel(model));
        return scheduler.ladder().tier(tierName(model));
    }

    private static String tierName(String model) {
        int colon = model.indexOf(':');
        return colon < 0 ? model : model.substring(0, colon);
    }

    @Override
    public String unknownModel(String model) { return scheduler.unknownModel(model); }

    /** For {@code tier:task}: the tier, the task, the form it is served in and the low-rank form's error (0 when exact). */
    @Override
    public java.util.Map<String, Object> modelDetails(String model) {
        int colon = model.indexOf(':');
        if (colon < 0 || !tiers.contains(model)) return java.util.Map.of();
        var tier = scheduler.ladder().tier(model.substring(0, colon));
        var built = tier.adaptation(model.substring(colon + 1));
        var out = new java.util.LinkedHashMap<String, Object>();
        out.put("tier", tier.name());
        out.put("expert", model.substring(colon + 1));
        out.put("expert_form", built.form().label());
        if (built.form() == dev.gearbox.svf.SvfAdapter.Form.LOW_RANK) out.put("expert_rank", built.rank());
        out.put("matrices", built.adaptation().changedMatrices());
        out.put("max_relative_error", built.maxRelativeError());
        out.put("mean_relative_error", built.meanRelativeError());
        return out;
    }

    @Override
    public String applyTemplate(String model, dev.gearbox.template.Conversation chat) {
        try {
            return dev.gearbox.template.ChatPrompt.text(tierFor(model).chatRenderer(), chat);
        } catch (IllegalArgumentException e) {
            throw ApiError.invalid("messages", e.getMessage());
        }
    }

    @Override
    public int[] tokenize(String model, String text, boolean addSpecial) {
        return tierFor(model).model().tokenizer().encode(text, addSpecial, true);
    }

    @Override
    public String detokenize(String model, int[] tokens) {
        var tok = tierFor(model).model().tokenizer();
        for (int t : tokens) {
            if (t < 0 || t >= tok.vocabSize()) throw ApiError.invalid("tokens", "token id " + t + " is outside the vocabulary [0, " + tok.vocabSize() + ")");
        }
        return tok.decode(tokens);
    }

    @Override
    public long[] prefixCache() {
        long[] out = new long[3];
        for (var s : scheduler.stats()) {
            out[0] += s.prefixLookups();
            out[1] += s.prefixHits();
            out[2] += s.prefixTokensReused();
        }
        return out;
    }

    @Override
    public Ticket submit(CompletionJob job, CompletionListener listener) {
        if (!job.auto() && !tiers.contains(job.model())) throw ApiError.unknownModel(job.model(), unknownModel(job.model()));
        if (job.sampling() != null) checkLogitBias(job.model(), job.sampling());
        SamplingParams.Builder b = job.sampling() != null ? job.sampling().toBuilder() : SamplingParams.greedy().toBuilder();
        SamplingParams params = b.maxTokens(job.maxTokens()).stop(job.stop()).build();
        List<RequestHandle> handles = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.concurrent.atomic.AtomicBoolean failed = new java.util.concurrent.atomic.AtomicBoolean();
        java.util.concurrent.atomic.AtomicReference<Decision> decision = new java.util.concurrent.atomic.AtomicReference<>();
        java.util.concurrent.atomic.AtomicBoolean siblingsStarted = new java.util.concurrent.atomic.AtomicBoolean(job.n() == 1);
        Runnable cancelAll = () -> handles.forEach(RequestHandle::cancel);
        java.util.function.Consumer<Throwable> fail = e -> {
            if (failed.compareAndSet(false, true)) {
                cancelAll.run();
                listener.failed(apiError(e));
            }
        };
        // Choices 1..n-1 start once choice 0 has chosen its first token: its prompt is in the tier's prefix
        // cache by then, so the other choices reuse that prefill and decode beside it.
        Runnable startSiblings = () -> {
            if (!siblingsStarted.compareAndSet(false, true)) return;
            for (int i = 1; i < job.n() && !failed.get(); i++) {
                try {
                    RequestHandle h = scheduler.submit(request(job, choiceParams(params, i), i, listener, null), decision.get());
                    handles.add(h);
                    watch(h, i, listener, fail);
                } catch (RuntimeException e) {
                    fail.accept(e);
                }
            }
        };
        RequestHandle first;
        try {
            first = scheduler.submit(request(job, choiceParams(params, 0), 0, listener, new StreamListener() {
                @Override public void onRouted(Decision d) {
                    decision.set(d);
                    listener.routed(new Routing(d.choice(), d));
                }
                @Override public void onText(String piece) { }
                @Override public void onToken(int token) { startSiblings.run(); }
            }));
        } catch (RuntimeException e) {
            throw apiError(e);
        }
        handles.add(first);
        watch(first, 0, listener, fail);
        return cancelAll::run;
    }

    /** Choice {@code i}'s sampling: with a seed, seed + i, so that every choice is reproducible and they differ. */
    private static SamplingParams choiceParams(SamplingParams p, int i) {
        if (i == 0 || p.seed() == null) return p;
        return p.toBuilder().seed(p.seed() + i).build();
    }

    /** The request of choice {@code i}; {@code extra} (choice 0) also hears the routing decision and the first token. */
    private static Request request(CompletionJob job, SamplingParams params, int i, CompletionListener listener, StreamListener extra) {
        Request base = job.chat() != null ? Request.ofChat(job.model(), job.chat(), params) : Request.of(job.model(), job.prompt(), params);
        Request r = base.withListener(new StreamListener() {
            @Override public void onRouted(Decision d) { if (extra != null) extra.onRouted(d); }
            @Override public void onToken(int token) { if (extra != null) extra.onToken(token); }
            @Override public void onText(String piece) { listener.text(i, piece); }
            @Override public void onLogprobs(List<TokenLogprob> tokens) { listener.logprobs(i, tokens); }
        });
        if (i > 0) r = r.withEscalation(job.auto());   // choices after the first follow its routing, and escalate as it may
        if (job.topLogprobs() >= 0) r = r.withLogprobs(job.topLogprobs());
        if (job.grammar() != null) r = r.withGrammar(job.grammar());
        return r;
    }

    private static void watch(RequestHandle h, int i, CompletionListener listener, java.util.function.Consumer<Throwable> fail) {
        h.future().whenComplete((Result r, Throwable error) -> {
            if (error == null) listener.done(i, r);
            else fail.accept(error instanceof CompletionException && error.getCause() != null ? error.getCause() : error);
        });
    }

    /**
     * logit_bias names token ids of the answering tier's vocabulary: each must exist there. For
     * {@code auto} (any tier may answer, escalation included) and {@code ensemble} the tiers must
     * share one vocabulary, else an id would mean different tokens on different tiers.
     */
    private void checkLogitBias(String model, SamplingParams sampling) {
        if (sampling.logitBias().isEmpty()) return;
        List<dev.gearbox.ladder.Tier> on = tiers.contains(model) && !Decision.ENSEMBLE.equals(model)
                ? List.of(scheduler.ladder().tier(tierName(model))) : scheduler.ladder().tiers();
        for (var t : on) {
            if (!dev.gearbox.tokenizer.Vocabularies.same(on.getFirst().model().tokenizer(), t.model().tokenizer())) {
                throw ApiError.invalid("logit_bias", "logit_bias needs one vocabulary, but the tiers '" + model
                        + "' may answer on have different ones; name a tier as the model");
            }
        }
        int vocab = on.getFirst().vocabSize();
        for (int id : sampling.logitBias().keySet()) {
            if (id >= vocab) throw ApiError.invalid("logit_bias", "logit_bias token id " + id + " is outside the vocabulary [0, " + vocab + ")");
        }
    }

    /** What the client is told for a scheduler's refusal or failure, whether it came at submit or after routing. */
    static RuntimeException apiError(Throwable e) {
        return switch (e) {
            case ApiError a -> a;
            case QueueFullException q -> ApiError.queueFull(q.retryAfterSeconds());
            case CapacityException c -> ApiError.tooLong(c.getMessage());
            case RequestCancelledException c -> switch (c.reason()) {
                case DEADLINE -> new ApiError(504, "server_error", null, "timeout", c.getMessage());
                case SHUTDOWN -> ApiError.unavailable("the server shut down before the request finished");
                default -> new ApiError(499, "invalid_request_error", null, "cancelled", "the request was cancelled");
            };
            case IllegalArgumentException i -> ApiError.invalid(null, i.getMessage());
            case IllegalStateException i when i.getMessage() != null && i.getMessage().contains("shutting down") ->
                    ApiError.unavailable("the server is shutting down");
            case RuntimeException r -> r;
            default -> new IllegalStateException(e);
        };
    }

    @Override
    public void close() {
        scheduler.close();
    }
}
