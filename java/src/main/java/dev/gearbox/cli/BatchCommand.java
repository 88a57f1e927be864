package dev.gearbox.cli;

import dev.gearbox.batch.BatchRunner;
import dev.gearbox.ladder.Ladder;
import dev.gearbox.schedule.Scheduler;
import me.tongfei.progressbar.DelegatingProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;

/** {@code gearbox batch}: an OpenAI Batch API input file through the ladder's scheduler. */
@Command(name = "batch", mixinStandardHelpOptions = true,
        description = {"Runs an OpenAI Batch API input file (JSON lines: custom_id, method, url = /v1/chat/completions or",
                "/v1/completions, body) through the ladder and appends OpenAI batch output lines (id, custom_id,",
                "response {status_code, request_id, body}, error) to OUTPUT, one flushed line per request.",
                "Resumable: custom_ids already in OUTPUT are skipped, a partial last line from a crash is repaired.",
                "Bad input lines become error lines. Progress (done of total, tokens/s, ETA) goes to stderr."})
final class BatchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    LadderOptions ladderOptions = new LadderOptions();

    @Parameters(index = "0", paramLabel = "INPUT.jsonl", description = "Batch input file.")
    Path input;

    @Parameters(index = "1", paramLabel = "OUTPUT.jsonl", description = "Batch output file (appended to; created if absent).")
    Path output;

    @Option(names = "--queue", paramLabel = "N", description = "Requests waiting per tier (default: ${DEFAULT-VALUE}).")
    int queue = 64;

    @Option(names = {"-q", "--quiet"}, description = "No progress bar.")
    boolean quiet;

    @Override
    public Integer call() throws Exception {
        PrintWriter err = spec.commandLine().getErr();
        long t0 = System.nanoTime();
        try (Ladder ladder = ladderOptions.open();
             Scheduler sched = Scheduler.open(ladder, Scheduler.Options.defaults().withQueueCapacity(queue))) {
            Bar bar = quiet ? null : new Bar(err);
            BatchRunner.Summary s;
            try {
                s = new BatchRunner(sched).run(input, output, bar != null ? bar : BatchRunner.Progress.NONE);
            } finally {
                if (bar != null) bar.close();
            }
            double secs = (System.nanoTime() - t0) / 1e9;
            err.printf(Locale.ROOT, "batch: %d lines, %d already in %s, %d answered, %d error lines, %d tokens in %.1f s%s%n",
                    s.total(), s.skipped(), output, s.succeeded(), s.failed(), s.completionTokens(), secs,
                    s.repairedBytes() > 0 ? " (removed a partial last line of " + s.repairedBytes() + " bytes left by an earlier run)" : "");
            err.flush();
            return 0;
        }
    }

    /** The progress bar: lines done of total, output tokens per second, ETA. */
    private static final class Bar implements BatchRunner.Progress {
        private final PrintWriter err;
        private final AtomicLong tokens = new AtomicLong();
        private final long start = System.nanoTime();
        private ProgressBar bar;

        Bar(PrintWriter err) {
            this.err = err;
        }

        @Override
        public synchronized void begin(long total, long alreadyDone) {
            bar = new ProgressBarBuilder().setTaskName("batch").setInitialMax(total).startsFrom(alreadyDone, Duration.ZERO)
                    .setStyle(ProgressBarStyle.ASCII).setUpdateIntervalMillis(250)
                    .setConsumer(new DelegatingProgressBarConsumer(line -> {
                        err.print('\r' + line);
                        err.flush();
                    }, 100)).build();
        }

        @Override
        public synchronized void lineDone(long completionTokens) {
            long t = tokens.addAndGet(completionTokens);
            double secs = Math.max(1e-9, (System.nanoTime() - start) / 1e9);
            bar.setExtraMessage(String.format(Locale.ROOT, "%.0f tok/s", t / secs));
            bar.step();
        }

        synchronized void close() {
            if (bar != null) {
                bar.close();
                err.println();
                err.flush();
            }
        }
    }
}
