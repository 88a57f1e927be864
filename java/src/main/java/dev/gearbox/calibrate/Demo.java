package dev.gearbox.calibrate;

import dev.gearbox.ladder.Ladder;
import dev.gearbox.ladder.Tier;
import dev.gearbox.router.Decision;
import dev.gearbox.router.Router;
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
    /** {@code experts}: also run the workload routed with SVF experts, when the ladder has them and router-experts.json. */
    public record Options(Path ladder, Path data, AnswerCache cache, PrintWriter progress, boolean experts) {
        public Options(Path ladder, Path data, AnswerCache cache, PrintWriter progress) {
            this(ladder, data, cache, progress, true);
        }
    }

    static final int WARMUP = 16;

    private Demo() {}

    public static DemoResult run(Options o) throws IOException {
        List<TaskRow> rows = Dataset.read(o.data());
        try (Ladder ladder = Ladder.open(o.ladder());
             Router router = Router.forLadder(ladder, false);
             LadderEngine engine = LadderEngine.measuring(ladder, router)) {
            PrintWriter log = o.progress();
            if (log != null) {
                log.printf("demo: %d prompts from %s through ladder '%s' (%s; router: %s)%n", rows.size(), o.data(), ladder.name(),
                        String.join(", ", ladder.tierNames()), engine.router().source());
                log.flush();
            }
            TierAnswers alone = TierAnswers.run(engine, rows, o.cache(), log, "demo: baseline");
            int n = rows.size(), k = ladder.tiers().size();

            Routed base = routeAll(engine, rows, alone, log, "demo");
            double largestFlops = 0;
            for (int i = 0; i < n; i++) largestFlops += alone.flops()[i][k - 1];
            List<CurvePoint> singles = new ArrayList<>();
            for (int t = 0; t < k; t++) {
                double c = 0;
                for (int i = 0; i < n; i++) c += alone.flops()[i][t];
                singles.add(new CurvePoint(c / largestFlops, alone.accuracy(t)));
            }
            List<DemoResult.TierLine> tiers = base.lines(singles);
            double computeShare = base.flops() / largestFlops;
            DemoResult.Experts experts = null;
            if (o.experts() && Router.hasExperts(ladder)) {
                try (Router withExperts = Router.forLadder(ladder, true);
                     LadderEngine expertEngine = LadderEngine.measuring(ladder, withExperts)) {
                    Routed e = routeAll(expertEngine, rows, alone, log, "demo: with experts");
                    experts = new DemoResult.Experts(withExperts.source(), e.lines(singles), (double) e.right() / n, e.flops() / largestFlops,
                            e.gatekeeperFlops() / largestFlops, e.escalations(), (double) e.withExpert() / n, e.results());
                }
            }
            return new DemoResult(ladder.name(), o.data().toString(), n, engine.router().source(), tiers,
                    (double) base.right() / n, alone.accuracy(k - 1), RoutingMetrics.randomQuality(singles, computeShare),
                    computeShare, base.gatekeeperFlops() / largestFlops, base.gatekeeperP50Ms(), base.gatekeeperP99Ms(), base.escalations(),
                    base.results(), experts);
        }
    }

    /**
     * One routed run of the workload: what the router decided per prompt, and how it went.
     *
     * @param routedTo per routing target (tiers, then the ensemble), prompts sent there
     * @param rightAt  per routing target, those answered right
     */
    record Routed(List<String> groups, int[] routedTo, int[] rightAt, int right, double flops, double gatekeeperFlops, int escalations,
                  int withExpert, double gatekeeperP50Ms, double gatekeeperP99Ms, List<Result> results) {

        List<DemoResult.TierLine> lines(List<CurvePoint> singles) {
            int n = results.size(), k = singles.size();
            List<DemoResult.TierLine> tiers = new ArrayList<>();
            for (int g = 0; g < groups.size(); g++) {
                boolean ens = g >= k;
                if (ens && routedTo[g] == 0) continue; // an ensemble the router never picks is not a line of the table
                tiers.add(new DemoResult.TierLine(groups.get(g), (double) routedTo[g] / n,
                        routedTo[g] == 0 ? Double.NaN : (double) rightAt[g] / routedTo[g],
                        ens ? Double.NaN : singles.get(g).quality(), ens ? Double.NaN : singles.get(g).cost()));
            }
            return tiers;
        }
    }

    /** Every prompt routed by {@code engine}'s router and answered, all in flight at once (each tier batches what it was sent). */
    static Routed routeAll(LadderEngine engine, List<TaskRow> rows, TierAnswers alone, PrintWriter log, String what) {
        Ladder ladder = engine.ladder();
        int n = rows.size(), k = ladder.tiers().size();
        List<String> groups = new ArrayList<>(ladder.tierNames());
        if (ladder.ensemble() != null) groups.add(Decision.ENSEMBLE);
        int[] routedTo = new int[groups.size()], rightAt = new int[groups.size()];
        double routedFlops = 0, gatekeeperFlops = 0;
        int right = 0, escalated = 0, withExpert = 0;
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
        List<Result> routed = engine.executeAllRequests(requests, decisions, LadderEngine.Options.defaults(ladder));
        for (int i = 0; i < n; i++) {
            Decision d = decisions.get(i);
            Result r = routed.get(i);
            if (r.escalated()) escalated++;
            if (d.expert() != null) withExpert++;
            boolean ok = Grader.correct(rows.get(i), r.text().trim(), alone.answers()[i][k - 1]);
            int g = d.ensemble() ? groups.size() - 1 : d.tierIndex();
            routedTo[g]++;
            if (ok) {
                rightAt[g]++;
                right++;
            }
            routedFlops += r.flops();   // gatekeeper + every hop
            gatekeeperFlops += d.gatekeeperFlops();
        }
        new Progress(log).step(n, n, "%s: routed %d/%d prompts", what, n, n);
        Arrays.sort(gkMillis);
        return new Routed(groups, routedTo, rightAt, right, routedFlops, gatekeeperFlops, escalated, withExpert,
                percentile(gkMillis, 0.5), percentile(gkMillis, 0.99), routed);
    }

    /** The p-quantile of sorted values (nearest rank). */
    static double percentile(double[] sorted, double p) {
        if (sorted.length == 0) return Double.NaN;
        int idx = (int) Math.ceil(p * sorted.length) - 1;
        return sorted[Math.max(0, Math.min(sorted.length - 1, idx))];
    }

}
