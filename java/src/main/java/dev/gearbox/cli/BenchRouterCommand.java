package dev.gearbox.cli;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gearbox.ladder.Ladder;
import dev.gearbox.router.Decision;
import dev.gearbox.router.Router;
import dev.gearbox.tensor.Parallel;
import dev.gearbox.tokenizer.Tokenizer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import dev.gearbox.router.RoutingBatcher;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.Arrays;
import java.util.Locale;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/** {@code gearbox bench-router}: how long the router takes to decide, per prompt. */
@Command(name = "bench-router", mixinStandardHelpOptions = true,
        description = {"Times the router's decision per prompt (gatekeeper prefill on the CPU plus the head) on random",
                "arithmetic-like prompts of a fixed token count, through the batched gatekeeper the server uses;",
                "prints p50/p99 latency and prompts/s at --concurrency clients."})
final class BenchRouterCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    LadderOptions ladderOptions = new LadderOptions();

    @Option(names = "--prompt-tokens", paramLabel = "N", defaultValue = "256", description = "Gatekeeper tokens per prompt, BOS included (default: ${DEFAULT-VALUE}).")
    int promptTokens;

    @Option(names = {"-n", "--prompts"}, paramLabel = "N", defaultValue = "200", description = "Timed prompts (default: ${DEFAULT-VALUE}).")
    int n;

    @Option(names = "--warmup", paramLabel = "N", defaultValue = "20", description = "Untimed prompts first, for the JIT (default: ${DEFAULT-VALUE}).")
    int warmup;

    @Option(names = "--seed", defaultValue = "1234", description = "Seed of the random prompts (default: ${DEFAULT-VALUE}).")
    long seed;

    @Option(names = {"-c", "--concurrency"}, paramLabel = "N", defaultValue = "1",
            description = "Clients routing at once through the batched gatekeeper (default: ${DEFAULT-VALUE}); prompts/s is reported.")
    int concurrency;

    @Option(names = "--json", description = "Print one JSON object.")
    boolean json;

    @Override
    public Integer call() throws Exception {
        if (promptTokens < 2) throw new IllegalArgumentException("--prompt-tokens must be at least 2, got " + promptTokens);
        if (n < 1) throw new IllegalArgumentException("-n must be at least 1, got " + n);
        if (warmup < 0) throw new IllegalArgumentException("--warmup must not be negative, got " + warmup);
        if (concurrency < 1) throw new IllegalArgumentException("--concurrency must be at least 1, got " + concurrency);
        PrintWriter out = spec.commandLine().getOut();
        try (Ladder ladder = ladderOptions.open(); Router router = Router.forLadder(ladder)) {
            int ctx = router.gatekeeper().context();
            if (promptTokens > ctx) {
                throw new IllegalArgumentException("--prompt-tokens " + promptTokens + " is more than the gatekeeper's context of " + ctx
                        + " tokens (gatekeeper.context in the ladder)");
            }
            Tokenizer tok = ladder.gatekeeperModel().tokenizer();
            SplittableRandom random = new SplittableRandom(seed);
            String[] prompts = new String[warmup + n];
            for (int i = 0; i < prompts.length; i++) prompts[i] = prompt(tok, promptTokens, random);
            long[] nanos = new long[n];
            int[] choices = new int[ladder.tiers().size() + 1];
            double wall, meanBatch;
            // The path the server takes: clients hand prompts to the batcher, whose thread reads all that wait in one pass.
            try (RoutingBatcher batcher = new RoutingBatcher(router, Math.max(16, 2 * concurrency), ladder.config().gatekeeper().batchTokens(),
                    "bench-router-gatekeeper")) {
                for (int i = 0; i < warmup; i++) route(batcher, prompts[i]);
                AtomicInteger next = new AtomicInteger();
                long w0 = System.nanoTime();
                List<Thread> clients = new ArrayList<>();
                for (int c = 0; c < concurrency; c++) {
                    clients.add(Thread.ofPlatform().name("bench-router-client-" + c).start(() -> {
                        for (int i; (i = next.getAndIncrement()) < n; ) {
                            long t0 = System.nanoTime();
                            Decision d = route(batcher, prompts[warmup + i]);
                            nanos[i] = System.nanoTime() - t0;
                            synchronized (choices) {
                                choices[d.tierIndex() < 0 ? choices.length - 1 : d.tierIndex()]++;
                            }
                        }
                    }));
                }
                for (Thread t : clients) t.join();
                wall = (System.nanoTime() - w0) / 1e9;
                meanBatch = batcher.meanBatch();
            }
            double perSecond = n / wall;
            long[] sorted = nanos.clone();
            Arrays.sort(sorted);
            double p50 = percentile(sorted, 0.50) / 1e6, p99 = percentile(sorted, 0.99) / 1e6;
            double mean = Arrays.stream(nanos).average().orElse(0) / 1e6;
            double min = sorted[0] / 1e6, max = sorted[sorted.length - 1] / 1e6;
            var gk = ladder.gatekeeperModel().config();
            if (json) {
                ObjectNode o = Json.MAPPER.createObjectNode();
                o.put("ladder", ladder.path().toString());
                o.put("gatekeeper", ladder.config().gatekeeper().model());
                o.put("gatekeeper_parameters", gk.parameterCount());
                o.put("router", router.source());
                o.put("prompt_tokens", promptTokens);
                o.put("n", n);
                o.put("threads", Parallel.threads());
                o.put("concurrency", concurrency);
                o.put("prompts_per_second", perSecond);
                o.put("mean_batch", meanBatch);
                o.put("layers", router.gatekeeper().layers());
                o.put("max_prompt_tokens", ladder.config().gatekeeper().promptLimit());
                o.put("p50_ms", p50);
                o.put("p99_ms", p99);
                o.put("mean_ms", mean);
                o.put("min_ms", min);
                o.put("max_ms", max);
                out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(o));
            } else {
                out.printf(Locale.ROOT, "gatekeeper %s (%s params, dim %d, %d layers), router %s, %d threads%n",
                        ladder.config().gatekeeper().model(), RouteCommand.eng(gk.parameterCount()), gk.dim(), gk.layers(),
                        router.source(), Parallel.threads());
                out.printf(Locale.ROOT, "%d prompts of %d tokens (after %d warm-up), %d at once: p50 %.3f ms, p99 %.3f ms, mean %.3f ms, min %.3f ms,"
                                + " max %.3f ms; %.1f prompts/s (mean batch %.1f; gatekeeper reads %d layers, at most %d tokens)%n",
                        n, promptTokens, warmup, concurrency, p50, p99, mean, min, max, perSecond, meanBatch, router.gatekeeper().layers(),
                        ladder.config().gatekeeper().promptLimit());
                StringBuilder sb = new StringBuilder("decisions:");
                for (int t = 0; t < ladder.tiers().size(); t++) sb.append(' ').append(ladder.tier(t).name()).append('=').append(choices[t]);
                if (choices[choices.length - 1] > 0) sb.append(" ensemble=").append(choices[choices.length - 1]);
                out.println(sb);
            }
            out.flush();
        }
        return Main.EXIT_OK;
    }

    /** One prompt through the batcher, waiting for its decision. */
    private static Decision route(RoutingBatcher batcher, String prompt) {
        CompletableFuture<RoutingBatcher.Routed> f = new CompletableFuture<>();
        while (!batcher.offer(prompt, 0, f::complete)) Thread.onSpinWait();
        RoutingBatcher.Routed r = f.join();
        if (r.error() != null) throw r.error();
        return r.decision();
    }

    /** Nearest-rank percentile of sorted values. */
    static long percentile(long[] sorted, double q) {
        int rank = (int) Math.ceil(q * sorted.length);
        return sorted[Math.max(0, Math.min(sorted.length - 1, rank - 1))];
    }

    private static final String ALPHABET = "0123456789+-*= ?";

    /**
     * Random arithmetic-looking text that the gatekeeper reads as exactly {@code tokens} tokens (BOS
     * included) where the tokenizer allows: grow by the missing count at once (a character is at
     * most one token here), then step a character at a time (a trailing space or merge can change
     * the count by more than one, so a few random retries settle it).
     */
    static String prompt(Tokenizer tok, int tokens, SplittableRandom random) {
        StringBuilder sb = new StringBuilder();
        int have = tok.encode("", true, false).length;
        for (int i = have; i < tokens; i++) sb.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
        for (int step = 0; step < 4 * tokens + 100; step++) {
            have = tok.encode(sb.toString(), true, false).length;
            if (have == tokens) break;
            if (have < tokens) sb.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
            else sb.setLength(sb.length() - 1);
        }
        return sb.toString();
    }
}
