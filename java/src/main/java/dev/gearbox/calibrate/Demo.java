package dev.gearbox.calibrate;

import dev.gearbox.ladder.Ladder;
import dev.gearbox.ladder.Tier;
import dev.gearbox.router.Decision;
import dev.gearbox.schedule.LadderEngine;
import dev.gearbox.schedule.Request;
import dev.gearbox.schedule.Result;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * {@code gearbox demo}: a held-out workload through the ladder with its router (gatekeeper →
 * decision → the scheduler, escalation and ensembles as the ladder configures them: what
 * {@code gearbox serve} and {@code batch} run), set against the baselines: every tier alone (from
 * which always-largest and random routing at the same compute follow).
 *
 * <p>Every routed prompt really runs (its answer and FLOPs are the routed run's own); the
 * single-tier baselines come from {@link TierAnswers} and its cache.
 */
public final class Demo {
    public record Options(Path ladder, Path data, AnswerCache cache, PrintWriter progress) {}

    static final int WARMUP = 16;

    private Demo() {}

    public static DemoResult run(Options o) throws IOException {
        List<TaskRow> rows = Dataset.read(o.data());
        try (Ladder ladder = Ladder.open(o.ladder());
             LadderEngine engine = new LadderEngine(ladder)) {
            PrintWriter log = o.progress();
            if (log != null) {
                log.printf("demo: %d prompts from %s through ladder '%s' (%s; router: %s)%n", rows.size(), o.data(), ladder.name(),
                        String.join(", ", ladder.tierNames()), engine.router().source());
                log.flush();
            }
            TierAnswers alone = TierAnswers.run(engine, rows, o.cache(), log, "demo: baseline");
            int n = rows.size(), k = ladder.tiers().size();

            List<String> groups = new ArrayList<>(ladder.tierNames());
            if (ladder.ensemble() != null) groups.add(Decision.ENSEMBLE);
            int[] routedTo = new int[groups.size()], rightAt = new int[groups.size()];
            double routedFlops = 0, largestFlops = 0, gatekeeperFlops = 0;
            int right = 0, escalated = 0;
            // A few untimed gatekeeper passes first, so p50/p99 measure compiled code, not the JIT warming up.
            for (int i = 0; i < Math.min(n, WARMUP); i++) engine.route(rows.get(i).request(Request.AUTO, null));
            double[] gkMillis = new double[n];
            List<Decision> decisions = new ArrayList<>(n);
            List<Request> requests = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                Request r = rows.get(i).request(Request.AUTO, null);
                Decision d = engine.route(r);
                gkMillis[i] = d.nanos() / 1e6;
                decisions.add(d);
                requests.add(r);
            }
            // All routed prompts in flight at once: each tier batches what the router sent it.
            List<Result> routed = engine.executeAllRequests(requests, decisions, LadderEngine.Options.defaults(ladder));
            Progress bar = new Progress(log);
            for (int i = 0; i < n; i++) {
                TaskRow row = rows.get(i);
                Decision d = decisions.get(i);
                Result r = routed.get(i);
                if (r.escalated()) escalated++;
                boolean ok = Grader.correct(row, r.text().trim(), alone.answers()[i][k - 1]);
                int g = d.ensemble() ? groups.size() - 1 : d.tierIndex();
                routedTo[g]++;
                if (ok) {
                    rightAt[g]++;
                    right++;
                }
                routedFlops += r.flops();   // gatekeeper + every hop
                gatekeeperFlops += d.gatekeeperFlops();
                largestFlops += alone.flops()[i][k - 1];
            }
            bar.step(n, n, "demo: routed %d/%d prompts", n, n);

            List<CurvePoint> singles = new ArrayList<>();
            for (int t = 0; t < k; t++) {
                double c = 0;
                for (int i = 0; i < n; i++) c += alone.flops()[i][t];
                singles.add(new CurvePoint(c / largestFlops, alone.accuracy(t)));
            }
            List<DemoResult.TierLine> tiers = new ArrayList<>();
            for (int g = 0; g < groups.size(); g++) {
                boolean ens = g >= k;
                if (ens && routedTo[g] == 0) continue; // an ensemble the router never picks is not a line of the table
                tiers.add(new DemoResult.TierLine(groups.get(g), (double) routedTo[g] / n,
                        routedTo[g] == 0 ? Double.NaN : (double) rightAt[g] / routedTo[g],
                        ens ? Double.NaN : singles.get(g).quality(), ens ? Double.NaN : singles.get(g).cost()));
            }
            double computeShare = routedFlops / largestFlops;
            Arrays.sort(gkMillis);
            return new DemoResult(ladder.name(), o.data().toString(), n, engine.router().source(), tiers,
                    (double) right / n, alone.accuracy(k - 1), RoutingMetrics.randomQuality(singles, computeShare),
                    computeShare, gatekeeperFlops / largestFlops, percentile(gkMillis, 0.5), percentile(gkMillis, 0.99), escalated, routed);
        }
    }

    /** The p-quantile of sorted values (nearest rank). */
    static double percentile(double[] sorted, double p) {
        if (sorted.length == 0) return Double.NaN;
        int idx = (int) Math.ceil(p * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, idx))];
    }

}
