package dev.gearbox.schedule;

import dev.gearbox.ladder.Ladder;
import dev.gearbox.router.Decision;
import dev.gearbox.router.Router;
import dev.gearbox.sample.SamplingParams;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;

/**
 * Synchronous answers on a ladder, for the commands that wait for them (calibrate, demo, route):
 * a thin facade over a {@link Scheduler}, so what calibration measures is exactly what the server
 * and batch jobs run: the same routing, continuous batching, decode policy, escalation and
 * ensemble. {@link #executeAll} puts many prompts in flight at once, so their tiers batch them.
 */
public final class LadderEngine implements AutoCloseable {

    /**
     * How to generate. {@code sampling} null = greedy (argmax); {@code maxTokens} = most answer
     * tokens across all hops; {@code escalate} = watched tiers may hand the request up.
     */
    public record Options(SamplingParams sampling, int maxTokens, boolean escalate) {
        public Options {
            if (maxTokens < 0) throw new IllegalArgumentException("maxTokens must be >= 0, got " + maxTokens);
        }

        /** Greedy, the ladder's max_answer_tokens, escalation on. */
        public static Options defaults(Ladder ladder) {
            return new Options(null, ladder.maxAnswerTokens(), true);
        }

        public Options withEscalate(boolean on) { return new Options(sampling, maxTokens, on); }

        SamplingParams params() {
            return (sampling != null ? sampling : SamplingParams.greedy()).toBuilder().maxTokens(maxTokens).build();
        }
    }

    private final Scheduler scheduler;

    /** An engine with the ladder's own router (router.json beside it, else the zero-shot rule). */
    public LadderEngine(Ladder ladder) throws IOException {
        this.scheduler = Scheduler.open(ladder);
    }

    /** An engine with a router the caller made (and closes). */
    public LadderEngine(Ladder ladder, Router router) {
        this.scheduler = Scheduler.open(ladder, router, Scheduler.Options.defaults());
    }

    private LadderEngine(Scheduler scheduler) {
        this.scheduler = scheduler;
    }

    /**
     * An engine for measuring (calibrate, demo, svf eval), with a router the caller made (and
     * closes), without prefix caching: those runs answer each prompt several times (every tier
     * alone, then routed), and KV blocks reused from an earlier run of the same prompt would make
     * the later run look cheaper than serving that prompt is.
     */
    public static LadderEngine measuring(Ladder ladder, Router router) {
        return new LadderEngine(Scheduler.open(ladder, router, Scheduler.Options.defaults().withPrefixCaching(false)));
    }

    public Ladder ladder() { return scheduler.ladder(); }

    public Router router() { return scheduler.router(); }

    public Scheduler scheduler() { return scheduler; }

    /** The router's decision for a prompt, without generating. */
    public Decision route(String prompt) {
        return scheduler.route(Request.of(Request.AUTO, prompt, null));
    }

    /** The router's decision for a request (a chat: the gatekeeper reads it as configured), without generating. */
    public Decision route(Request r) {
        return scheduler.route(r.model().equals(Request.AUTO) ? r : new Request(r.prompt(), r.promptTokens(), Request.AUTO, r.sampling(),
                r.deadline(), r.listener(), r.escalate(), r.topLogprobs(), r.chat(), r.grammar()));
    }

    /** Route, then answer with the ladder's defaults. */
    public Result run(String prompt) {
        return execute(prompt, route(prompt), Options.defaults(ladder()));
    }

    /** Answer on one tier the caller picks: greedy, max_answer_tokens, no escalation, no gatekeeper. */
    public Result runTier(String tier, String prompt) {
        return execute(prompt, Decision.forced(ladder().tierNames(), tier), Options.defaults(ladder()).withEscalate(false));
    }

    /** Answer with the ladder's ensemble (which must be enabled). */
    public Result runEnsemble(String prompt) {
        return execute(prompt, Decision.forced(ladder().tierNames(), Decision.ENSEMBLE), Options.defaults(ladder()));
    }

    /** Carries out a decision (routed or forced) and waits for the answer. */
    public Result execute(String prompt, Decision decision, Options options) {
        return executeAll(List.of(prompt), List.of(decision), options).getFirst();
    }

    /**
     * Carries out one decision per prompt with all of them in flight at once (waiting for queue
     * room, never refused), and returns the answers in the prompts' order. The first failure is
     * thrown once every request has ended.
     */
    public List<Result> executeAll(List<String> prompts, List<Decision> decisions, Options options) {
        List<Request> requests = new ArrayList<>(prompts.size());
        for (int i = 0; i < prompts.size(); i++) requests.add(Request.of(decisions.get(i).choice(), prompts.get(i), null));
        return executeAllRequests(requests, decisions, options);
    }

    /** {@link #executeAll} for whole requests (chat conversations among them); their sampling and escalation become the options'. */
    public List<Result> executeAllRequests(List<Request> requests, List<Decision> decisions, Options options) {
        if (requests.size() != decisions.size()) throw new IllegalArgumentException(requests.size() + " requests but " + decisions.size() + " decisions");
        SamplingParams params = options.params();
        List<RequestHandle> handles = new ArrayList<>(requests.size());
        try {
            for (int i = 0; i < requests.size(); i++) {
                Request r = requests.get(i).withSampling(params).withEscalation(options.escalate());
                handles.add(scheduler.submitWaiting(r, decisions.get(i)));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            for (RequestHandle h : handles) h.cancel();
            throw new IllegalStateException("interrupted while submitting", e);
        }
        List<Result> out = new ArrayList<>(handles.size());
        RuntimeException first = null;
        for (RequestHandle h : handles) {
            try {
                out.add(h.future().join());
            } catch (CompletionException e) {
                if (first == null) first = e.getCause() instanceof RuntimeException re ? re : e;
                out.add(null);
            }
        }
        if (first != null) throw first;
        return out;
    }

    @Override
    public void close() {
        scheduler.close();
    }
}
