package dev.gearbox.schedule;

import dev.gearbox.ladder.Ladder;
import dev.gearbox.ladder.LadderConfig;
import dev.gearbox.ladder.Tier;
import dev.gearbox.sample.LogitMath;

import dev.gearbox.model.Sequence;
import dev.gearbox.router.Decision;
import dev.gearbox.router.Router;
import dev.gearbox.sample.Sampler;
import dev.gearbox.sample.SamplingParams;
import dev.gearbox.tokenizer.Tokenizer;

import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * A test oracle: the ladder's decode/hop policy written again as a plain sequential loop over one
 * sequence per tier (no scheduler, no batching, no shared policy class), so the scheduler's
 * answers, hops and FLOPs can be checked against something computed another way. Kept from the
 * engine that answered calibrate and demo before everything went through the scheduler.
 */
public final class SequentialLadder implements AutoCloseable {
    /** What one request produced (the old engine's response). */
    public record Response(String text, int[] tokens, float[] logprobs, String finalTier, Decision decision, List<Hop> hops,
                    double flops, double cost) {
        public boolean escalated() { return hops.stream().anyMatch(Hop::escalated); }
    }

    /** How to generate: as {@link LadderEngine.Options}. */
    public record Options(SamplingParams sampling, int maxTokens, boolean escalate) {
        public static Options defaults(Ladder ladder) { return new Options(null, ladder.maxAnswerTokens(), true); }
        public Options withEscalate(boolean on) { return new Options(sampling, maxTokens, on); }
    }

    private final Ladder ladder;
    private final Router router;
    private final boolean ownsRouter;
    /** keep[i]: when tier i escalates, tier i+1 continues its partial answer (same vocabulary, not switched off). */
    private final boolean[] keepPartial;

    /** With the ladder's own router (router.json beside it, else the zero-shot rule), closed with this. */
    public SequentialLadder(Ladder ladder) throws IOException {
        this(ladder, Router.forLadder(ladder), true);
    }

    /** With a router the caller made (and closes). */
    public SequentialLadder(Ladder ladder, Router router) {
        this(ladder, router, false);
    }

    private SequentialLadder(Ladder ladder, Router router, boolean ownsRouter) {
        this.ladder = ladder;
        this.router = router;
        this.ownsRouter = ownsRouter;
        keepPartial = new boolean[ladder.tiers().size()];
        for (int i = 0; i < keepPartial.length; i++) keepPartial[i] = ladder.keepsPartialAnswer(i);
    }

    Ladder ladder() { return ladder; }

    Router router() { return router; }

    /** The router's decision for a prompt, without generating. */
    public Decision route(String prompt) {
        return router.route(prompt);
    }

    /** Route, then answer with the ladder's defaults. */
    public Response run(String prompt) {
        return run(prompt, Options.defaults(ladder));
    }

    public Response run(String prompt, Options options) {
        return execute(prompt, route(prompt), options);
    }

    /** Answer on one tier the caller picks: greedy, max_answer_tokens, no escalation, no gatekeeper. */
    public Response runTier(String tier, String prompt) {
        return execute(prompt, Decision.forced(ladder.tierNames(), tier), Options.defaults(ladder).withEscalate(false));
    }

    /** Answer with the ladder's ensemble (which must be enabled). */
    public Response runEnsemble(String prompt) {
        return execute(prompt, Decision.forced(ladder.tierNames(), Decision.ENSEMBLE), Options.defaults(ladder));
    }

    /** Carries out a decision. */
    public Response execute(String prompt, Decision decision, Options options) {
        long t0 = System.nanoTime();
        List<Hop> hops = new ArrayList<>();
        Turn last;
        List<String> members = List.of();
        String finalTier;
        Tokenizer finalTok;
        if (decision.ensemble()) {
            var ens = ladder.ensemble();
            if (ens == null) throw new IllegalArgumentException("ladder " + ladder.path() + " has no enabled ensemble");
            members = ens.tiers();
            last = ensemble(prompt, ens, options);
            hops.add(last.hop);
            finalTier = Decision.ENSEMBLE;
            finalTok = ladder.tier(members.getFirst()).model().tokenizer();
        } else {
            int i = decision.tierIndex();
            int[] kept = new int[0];
            float[] keptLp = new float[0];
            while (true) {
                Tier tier = ladder.tier(i);
                boolean top = i == ladder.tiers().size() - 1;
                boolean watch = options.escalate() && !top && tier.escalate() != null;
                last = single(tier, prompt, kept, keptLp, options, watch, keepPartial[i], decision.expert());
                hops.add(last.hop);
                if (!last.hop.escalated()) break;
                if (keepPartial[i]) {
                    kept = last.tokens;
                    keptLp = last.logprobs;
                } else {
                    kept = new int[0];
                    keptLp = new float[0];
                }
                i++;
            }
            finalTier = ladder.tier(i).name();
            finalTok = ladder.tier(i).model().tokenizer();
        }
        double flops = decision.gatekeeperFlops(), cost = decision.gatekeeperFlops();
        for (Hop h : hops) {
            flops += h.flops();
            cost += h.cost();
        }
        String text = finalTok.decode(last.tokens, false).trim();
        return new Response(text, last.tokens, last.logprobs, finalTier, decision, hops, flops, cost);
    }

    /** What one turn produced: the whole answer so far (kept tokens included) and its hop record. */
    private record Turn(int[] tokens, float[] logprobs, Hop hop) {}

    /** One hop on {@code tier}; with {@code expert}'s adaptation where the tier has that task's expert (as the scheduler does). */
    private Turn single(Tier tier, String prompt, int[] kept, float[] keptLp, Options o, boolean watch, boolean keepOnEscalate, String expert) {
        long t0 = System.nanoTime();
        Tokenizer tok = tier.model().tokenizer();
        int[] promptIds = tok.encode(prompt, true, false);
        checkRoom(tier.name(), promptIds.length, tier.context());
        if (promptIds.length + kept.length >= tier.context()) {
            // The partial answer does not fit this tier's context next to the prompt: start over.
            kept = new int[0];
            keptLp = new float[0];
        }
        int[] prefix = concat(promptIds, kept);
        TokenBuffer answer = new TokenBuffer(kept, keptLp);
        if (answer.size() >= o.maxTokens()) {
            return new Turn(answer.tokens(), answer.logprobs(), new Hop(tier.name(), kept.length, 0, "max_tokens", 0, 0, System.nanoTime() - t0));
        }
        Sampler sampler = o.sampling() != null ? new Sampler(o.sampling()) : null;
        if (sampler != null) sampler.acceptAll(prefix);
        var esc = tier.escalate();
        Sequence seq = tier.model().newSequence(tier.context());
        dev.gearbox.model.Adaptation adaptation = tier.hasExpert(expert) ? tier.adaptation(expert).adaptation() : null;
        seq.adapt(adaptation);
        double extraPerToken = adaptation != null ? adaptation.extraFlopsPerToken() : 0;
        double flops, cost;
        String reason;
        int generated = 0;
        double windowSum = 0;
        try {
            float[] logits = seq.forward(prefix);
            flops = tier.flops(0, prefix.length) + prefix.length * extraPerToken;
            cost = tier.cost(0, prefix.length);
            while (true) {
                int token;
                float lp;
                if (sampler != null) {
                    Sampler.Choice c = sampler.sample(logits);
                    token = c.token();
                    lp = c.logprob();
                } else {
                    token = Sampler.argmax(logits);
                    lp = Sampler.logSoftmaxAt(logits, token);
                }
                if (tok.isEndOfGeneration(token)) { reason = "eos"; break; }
                answer.add(token, lp);
                generated++;
                if (sampler != null) sampler.accept(token);
                if (watch) {
                    // Mean log-probability of this tier's own last `window` tokens.
                    windowSum += lp;
                    if (generated > esc.window()) windowSum -= answer.logprob(answer.size() - 1 - esc.window());
                    boolean budgetLeft = !keepOnEscalate || answer.size() < o.maxTokens();
                    if (generated >= esc.window() && budgetLeft) {
                        double mean = windowSum / esc.window();
                        if (mean < esc.minMeanLogprob()) {
                            reason = String.format(Locale.ROOT, "escalate: mean logprob %.3f over the last %d tokens < %.3f",
                                    mean, esc.window(), esc.minMeanLogprob());
                            break;
                        }
                    }
                }
                if (answer.size() >= o.maxTokens()) { reason = "max_tokens"; break; }
                if (seq.position() >= seq.capacity()) { reason = "context"; break; }
                int pos = seq.position();
                logits = seq.forward(new int[] {token});
                flops += tier.flops(pos, 1) + extraPerToken;
                cost += tier.cost(pos, 1);
            }
        } finally {
            seq.close();
        }
        return new Turn(answer.tokens(), answer.logprobs(),
                new Hop(tier.name(), kept.length, generated, reason, flops, cost, System.nanoTime() - t0));
    }

    private Turn ensemble(String prompt, LadderConfig.EnsembleConfig ens, Options o) {
        long t0 = System.nanoTime();
        int k = ens.tiers().size();
        Tier[] tiers = new Tier[k];
        double[] weights = new double[k];
        for (int j = 0; j < k; j++) {
            tiers[j] = ladder.tier(ens.tiers().get(j));
            weights[j] = ens.weights().get(j);
        }
        Tokenizer tok = tiers[0].model().tokenizer();
        int[] promptIds = tok.encode(prompt, true, false);
        int capacity = Integer.MAX_VALUE;
        for (Tier t : tiers) {
            checkRoom(t.name(), promptIds.length, t.context());
            capacity = Math.min(capacity, t.context());
        }
        Sampler sampler = o.sampling() != null ? new Sampler(o.sampling()) : null;
        if (sampler != null) sampler.acceptAll(promptIds);
        Sequence[] seqs = new Sequence[k];
        TokenBuffer answer = new TokenBuffer(new int[0], new float[0]);
        double flops = 0, cost = 0;
        String reason;
        try {
            float[][] logits = new float[k][];
            for (int j = 0; j < k; j++) {
                seqs[j] = tiers[j].model().newSequence(tiers[j].context());
                logits[j] = seqs[j].forward(promptIds);
                flops += tiers[j].flops(0, promptIds.length);
                cost += tiers[j].cost(0, promptIds.length);
            }
            if (o.maxTokens() == 0) {
                reason = "max_tokens";
            } else {
                while (true) {
                    float[] combined = LogitMath.combineLogProbs(logits, weights);
                    int token;
                    float lp;
                    if (sampler != null) {
                        Sampler.Choice c = sampler.sample(combined);
                        token = c.token();
                        lp = c.logprob();
                    } else {
                        token = Sampler.argmax(combined);
                        lp = Sampler.logSoftmaxAt(combined, token);
                    }
                    if (tok.isEndOfGeneration(token)) { reason = "eos"; break; }
                    answer.add(token, lp);
                    if (sampler != null) sampler.accept(token);
                    if (answer.size() >= o.maxTokens()) { reason = "max_tokens"; break; }
                    int pos = seqs[0].position();
                    if (pos >= capacity) { reason = "context"; break; }
                    for (int j = 0; j < k; j++) {
                        logits[j] = seqs[j].forward(new int[] {token});
                        flops += tiers[j].flops(pos, 1);
                        cost += tiers[j].cost(pos, 1);
                    }
                }
            }
        } finally {
            for (int j = 0; j < k; j++) if (seqs[j] != null) seqs[j].close();
        }
        return new Turn(answer.tokens(), answer.logprobs(),
                new Hop(Decision.ENSEMBLE, 0, answer.size(), reason, flops, cost, System.nanoTime() - t0));
    }

    private static void checkRoom(String tier, int tokens, int context) {
        if (tokens >= context) {
            throw new IllegalArgumentException("the prompt is " + tokens + " tokens, too long for tier '" + tier + "' (context " + context
                    + " tokens, and the answer needs room too)");
        }
    }

    private static int[] concat(int[] a, int[] b) {
        int[] out = Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    /** A growing list of answer tokens and their log-probabilities. */
    private static final class TokenBuffer {
        private int[] tokens;
        private float[] logprobs;
        private int n;

        TokenBuffer(int[] start, float[] startLp) {
            tokens = Arrays.copyOf(start, Math.max(16, start.length * 2));
            logprobs = Arrays.copyOf(startLp, tokens.length);
            n = start.length;
        }

        void add(int t, float lp) {
            if (n == tokens.length) {
                tokens = Arrays.copyOf(tokens, n * 2);
                logprobs = Arrays.copyOf(logprobs, n * 2);
            }
            tokens[n] = t;
            logprobs[n++] = lp;
        }

        int size() { return n; }
        float logprob(int i) { return logprobs[i]; }
        int[] tokens() { return Arrays.copyOf(tokens, n); }
        float[] logprobs() { return Arrays.copyOf(logprobs, n); }
    }

    @Override
    public void close() {
        if (ownsRouter) router.close();
    }
}
