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
    public double kvCacheUsage() {
        long used = 0, budget = 0;
        for (var s : scheduler.stats()) {
            used += s.kvBytesUsed();
            budget += s.kvBytesBudget();
        }
        return budget == 0 ? 0 : (double) used / budget;
    }

    private dev.gearbox.ladder.Tier tierFor(String model) {
        if (model == null || model.equals(CompletionJob.AUTO)) return scheduler.ladder().tier(0);
        if (!scheduler.ladder().tierNames().contains(model)) throw ApiError.unknownModel(model);
        return scheduler.ladder().tier(model);
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
        if (!job.auto() && !tiers.contains(job.model())) throw ApiError.unknownModel(job.model());
        if (job.sampling() != null) checkLogitBias(job.model(), job.sampling());
        SamplingParams.Builder b = job.sampling() != null ? job.sampling().toBuilder() : SamplingParams.greedy().toBuilder();
        SamplingParams params = b.maxTokens(job.maxTokens()).stop(job.stop()).build();
        // The routing decision reaches the listener before any text (the scheduler calls onRouted first).
        Request base = job.chat() != null ? Request.ofChat(job.model(), job.chat(), params) : Request.of(job.model(), job.prompt(), params);
        Request request = base.withListener(new StreamListener() {
            @Override public void onRouted(Decision d) { listener.routed(new Routing(d.choice(), d)); }
            @Override public void onText(String piece) { listener.text(piece); }
            @Override public void onLogprobs(List<TokenLogprob> tokens) { listener.logprobs(tokens); }
        });
        if (job.topLogprobs() >= 0) request = request.withLogprobs(job.topLogprobs());
        if (job.grammar() != null) request = request.withGrammar(job.grammar());
        RequestHandle handle;
        try {
            handle = scheduler.submit(request);
        } catch (RuntimeException e) {
            throw apiError(e);
        }
        handle.future().whenComplete((Result r, Throwable error) -> {
            if (error == null) listener.done(r);
            else listener.failed(apiError(error instanceof CompletionException && error.getCause() != null ? error.getCause() : error));
        });
        return handle::cancel;
    }

    /**
     * logit_bias names token ids of the answering tier's vocabulary: each must exist there. For
     * {@code auto} (any tier may answer, escalation included) and {@code ensemble} the tiers must
     * share one vocabulary, else an id would mean different tokens on different tiers.
     */
    private void checkLogitBias(String model, SamplingParams sampling) {
        if (sampling.logitBias().isEmpty()) return;
        List<Tier> on = tiers.contains(model) && !dev.gearbox.router.Decision.ENSEMBLE.equals(model)
                ? List.of(scheduler.ladder().tier(model)) : scheduler.ladder().tiers();
        for (Tier t : on) {
            if (!Vocabularies.same(on.getFirst().model().tokenizer(), t.model().tokenizer())) {
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
