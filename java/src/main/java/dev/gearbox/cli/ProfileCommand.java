package dev.gearbox.cli;

import dev.gearbox.calibrate.Dataset;
import dev.gearbox.calibrate.TaskRow;
import dev.gearbox.ladder.Ladder;
import dev.gearbox.profile.MachineCeilings;
import dev.gearbox.profile.ProfileSummary;
import dev.gearbox.profile.Profiler;
import dev.gearbox.profile.Span;
import dev.gearbox.profile.TraceWriter;
import dev.gearbox.sample.SamplingParams;
import dev.gearbox.schedule.Request;
import dev.gearbox.schedule.RequestHandle;
import dev.gearbox.schedule.Scheduler;
import dev.gearbox.tensor.Parallel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletionException;

/** {@code gearbox profile}: a workload through the scheduler with spans on; a Chrome trace and a summary. */
@Command(name = "profile", mixinStandardHelpOptions = true,
        description = {"Runs a workload (JSON lines with prompt, messages, question or turns, as demo and calibrate read them)",
                "through the ladder's scheduler with profiling on, writes a Chrome trace-event file (open it in",
                "https://ui.perfetto.dev or chrome://tracing) and prints where the time went: per tier and per operation,",
                "with achieved bandwidth and FLOP/s against the machine's ceilings.",
                "--calibrate-machine measures the ceilings (memory bandwidth, FMA FLOP/s on every core) and caches them."})
final class ProfileCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    LadderOptions ladderOptions = new LadderOptions();

    @Option(names = "--workload", paramLabel = "FILE.jsonl", description = "Prompts to run.")
    Path workload;

    @Option(names = {"-o", "--out"}, paramLabel = "FILE", defaultValue = "trace.json", description = "Trace file to write (default: ${DEFAULT-VALUE}).")
    Path out;

    @Option(names = {"-n", "--rows"}, paramLabel = "N", description = "Run only the first N rows of the workload.")
    Integer rows;

    @Option(names = "--model", paramLabel = "NAME", defaultValue = "auto",
            description = "auto (gatekeeper, router, escalation), a tier name, or ensemble (default: ${DEFAULT-VALUE}).")
    String model = "auto";

    @Option(names = "--max-tokens", paramLabel = "N", defaultValue = "16", description = "Tokens to generate per row, greedy, stopping at a newline (default: ${DEFAULT-VALUE}).")
    int maxTokens = 16;

    @Option(names = "--calibrate-machine", description = "Measure the machine's bandwidth and FLOP/s ceilings, cache them, and exit (unless --workload is given too).")
    boolean calibrateMachine;

    @Option(names = "--quick-calibration", description = "When no ceilings are cached, measure quick ones (about a second) instead of leaving the ceiling columns out; they are not cached.")
    boolean quickCalibration;

    @Override
    public Integer call() throws Exception {
        PrintWriter o = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (rows != null && rows < 1) throw new ParameterException(spec.commandLine(), "-n must be at least 1, got " + rows);
        if (maxTokens < 1) throw new ParameterException(spec.commandLine(), "--max-tokens must be at least 1, got " + maxTokens);
        MachineCeilings ceilings = null;
        if (calibrateMachine) {
            err.printf("profile: measuring memory bandwidth and FLOP/s on %d threads...%n", Parallel.threads());
            err.flush();
            ceilings = MachineCeilings.measure(Parallel.threads(), false);
            ceilings.save();
            o.printf(Locale.ROOT, "machine: %.2f GB/s memory bandwidth, %.2f GFLOP/s F32 FMA, %d threads; cached in %s%n",
                    ceilings.bytesPerSecond() / 1e9, ceilings.flopsPerSecond() / 1e9, ceilings.cores(), MachineCeilings.cacheFile());
            o.flush();
            if (workload == null) return 0;
        }
        if (workload == null) throw new ParameterException(spec.commandLine(), "profile needs --workload FILE.jsonl (or --calibrate-machine)");
        if (ceilings == null) ceilings = MachineCeilings.load();
        if (ceilings == null) {
            if (quickCalibration) {
                err.println("profile: no cached machine ceilings; measuring quick ones (not cached; run gearbox profile --calibrate-machine for full ones)");
                ceilings = MachineCeilings.measure(Parallel.threads(), true);
            } else {
                err.println("profile: no cached machine ceilings in " + MachineCeilings.cacheFile()
                        + "; run gearbox profile --calibrate-machine once (or pass --quick-calibration) to see bandwidth and FLOP/s against them");
            }
        }
        List<TaskRow> taskRows = Dataset.read(workload);
        if (rows != null && rows < taskRows.size()) taskRows = taskRows.subList(0, rows);
        if (taskRows.isEmpty()) throw new ParameterException(spec.commandLine(), "the workload " + workload + " has no rows");
        SamplingParams params = SamplingParams.builder().temperature(0).maxTokens(maxTokens).stop(List.of("\n")).build();

        List<Span> spans;
        long t0, wall;
        int failed = 0;
        long tokens = 0;
        try (Ladder ladder = ladderOptions.open();
             Scheduler sched = Scheduler.open(ladder, Scheduler.Options.defaults().withQueueCapacity(Math.max(256, taskRows.size())))) {
            Profiler.drain();            // nothing from before this run
            Profiler.setRecording(true);
            try {
                t0 = System.nanoTime();
                List<RequestHandle> handles = new ArrayList<>();
                for (TaskRow r : taskRows) handles.add(sched.submit(Request.of(model, r.text(), params)));
                for (RequestHandle h : handles) {
                    try {
                        tokens += h.future().join().usage().completionTokens();
                    } catch (CompletionException e) {
                        failed++;
                        err.println("profile: request " + h.id() + " failed: " + e.getCause().getMessage());
                    }
                }
                wall = System.nanoTime() - t0;
            } finally {
                Profiler.setRecording(false);
                spans = Profiler.drain();
            }
        }
        TraceWriter.write(spans, out);
        o.printf(Locale.ROOT, "profile: %d requests (%d failed), %d tokens generated in %.2f s; %d spans written to %s%n",
                taskRows.size(), failed, tokens, wall / 1e9, spans.size(), out);
        o.print(ProfileSummary.format(spans, ceilings));
        o.println("Open the trace in https://ui.perfetto.dev (or chrome://tracing): one track per lane thread, per request, and per lane's op totals.");
        o.flush();
        return failed == 0 ? 0 : 1;
    }
}
