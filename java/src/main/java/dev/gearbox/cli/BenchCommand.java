package dev.gearbox.cli;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gearbox.backend.cuda.CudaBackend;
import dev.gearbox.backend.cuda.CudaDevice;
import dev.gearbox.gguf.TensorInfo;
import dev.gearbox.model.Model;
import dev.gearbox.model.Sequence;
import dev.gearbox.sample.TokenChoice;
import dev.gearbox.profile.MachineCeilings;
import dev.gearbox.profile.ProfileSummary;
import dev.gearbox.profile.Profiler;
import dev.gearbox.profile.Span;
import dev.gearbox.tensor.GGMLType;
import dev.gearbox.tensor.Parallel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.Callable;

/**
 * {@code gearbox bench}: prefill and decode speed, measured the way llama-bench measures them, so
 * the numbers can be set side by side.
 */
@Command(name = "bench", mixinStandardHelpOptions = true,
        description = {"Measures prefill and decode speed like llama-bench; prints a Markdown table.",
                "ppN: one batched prefill of N random tokens; tgN: N single-token decode steps after a 1-token start.",
                "-p, -n and -t take comma-separated lists; 0 skips a test."})
final class BenchCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = {"-m", "--model"}, required = true, paramLabel = "FILE", description = "GGUF model file.")
    Path model;

    @Option(names = {"-p", "--n-prompt"}, split = ",", paramLabel = "N", defaultValue = "512",
            description = "Prompt sizes to prefill (default: ${DEFAULT-VALUE}).")
    List<Integer> prompts;

    @Option(names = {"-n", "--n-gen"}, split = ",", paramLabel = "N", defaultValue = "128",
            description = "Numbers of tokens to generate (default: ${DEFAULT-VALUE}).")
    List<Integer> gens;

    @Option(names = {"-r", "--repetitions"}, paramLabel = "R", defaultValue = "3",
            description = "Timed runs of each test, after one warm-up run (default: ${DEFAULT-VALUE}).")
    int repetitions;

    @Option(names = {"-t", "--threads"}, split = ",", paramLabel = "N",
            description = "Worker thread counts (default: the number of cores).")
    List<Integer> threads;

    @Option(names = "--no-warmup", description = "Skip the warm-up run.")
    boolean noWarmup;

    @Option(names = "--json", description = "Print the results as a JSON array instead of a table.")
    boolean json;

    @Option(names = "--backend", paramLabel = "NAME", defaultValue = "cpu",
            description = "Where the forward pass runs: cpu or cuda (default: ${DEFAULT-VALUE}).")
    String backend = "cpu";

    @Option(names = "--device", paramLabel = "N", defaultValue = "0", description = "CUDA device ordinal for --backend cuda (default: ${DEFAULT-VALUE}).")
    int device;

    @Option(names = "--profile", description = "Record profiler spans during the runs (to measure the profiler's overhead); prints the span summary to stderr.")
    boolean profile;

    @Option(names = "--seed", defaultValue = "1234", description = "Seed of the random token ids (default: ${DEFAULT-VALUE}).")
    long seed;

    /** One row of the table. */
    record Result(String test, int nPrompt, int nGen, int threads, double[] tokensPerSecond, long[] nanos) {
        double mean() {
            double s = 0;
            for (double v : tokensPerSecond) s += v;
            return s / tokensPerSecond.length;
        }

        /** Sample standard deviation, 0 for a single run. */
        double stddev() {
            int n = tokensPerSecond.length;
            if (n < 2) return 0;
            double m = mean(), s = 0;
            for (double v : tokensPerSecond) s += (v - m) * (v - m);
            return Math.sqrt(s / (n - 1));
        }
    }

    @Override
    public Integer call() throws Exception {
        validate();
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        List<Integer> threadCounts = threads == null || threads.isEmpty() ? List.of(Parallel.threads()) : threads;
        int capacity = 1;
        for (int p : prompts) capacity = Math.max(capacity, p);
        for (int n : gens) capacity = Math.max(capacity, n + 1);

        List<Result> results = new ArrayList<>();
        try (Model m = ModelOptions.open(model, backend, device)) {
            if (capacity > m.config().contextLength()) {
                err.printf("gearbox: warning: tests need %d positions, more than the model's context length %d%n", capacity, m.config().contextLength());
            }
            SplittableRandom random = new SplittableRandom(seed);
            int vocab = m.config().vocabSize();
            int originalThreads = Parallel.threads();
            if (profile) {
                Profiler.drain();
                Profiler.setRecording(true);
            }
            try (Sequence seq = m.newSequence(capacity)) {
                for (int t : threadCounts) {
                    Parallel.setThreads(t);
                    for (int p : prompts) {
                        if (p > 0) results.add(runPrompt(seq, p, t, vocab, random, err));
                    }
                    for (int n : gens) {
                        if (n > 0) results.add(runGen(seq, n, t, vocab, random, err));
                    }
                }
            } finally {
                Parallel.setThreads(originalThreads);
                if (profile) {
                    Profiler.setRecording(false);
                    List<Span> spans = Profiler.drain();
                    err.printf("gearbox: profile: %d spans recorded%n", spans.size());
                    err.print(ProfileSummary.format(spans, MachineCeilings.load()));
                    err.flush();
                }
            }
            long peak = peakRssBytes();
            if (json) {
                out.println(Json.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(toJson(m, results, peak)));
            } else {
                printTable(out, m, results, peak);
            }
            out.flush();
        }
        return Main.EXIT_OK;
    }

    private void validate() {
        if (repetitions < 1) throw new IllegalArgumentException("-r must be at least 1, got " + repetitions);
        for (int p : prompts) if (p < 0) throw new IllegalArgumentException("-p must not be negative, got " + p);
        for (int n : gens) if (n < 0) throw new IllegalArgumentException("-n must not be negative, got " + n);
        if (threads != null) for (int t : threads) if (t < 1) throw new IllegalArgumentException("-t must be at least 1, got " + t);
        if (prompts.stream().allMatch(p -> p == 0) && gens.stream().allMatch(n -> n == 0)) {
            throw new IllegalArgumentException("nothing to measure: every -p and -n is 0");
        }
    }

    private Result runPrompt(Sequence seq, int p, int threads, int vocab, SplittableRandom random, PrintWriter err) {
        if (!noWarmup) prefill(seq, randomTokens(random, p, vocab));
        double[] tps = new double[repetitions];
        long[] nanos = new long[repetitions];
        for (int r = 0; r < repetitions; r++) {
            nanos[r] = prefill(seq, randomTokens(random, p, vocab));
            tps[r] = p * 1e9 / nanos[r];
        }
        err.printf(Locale.ROOT, "gearbox: pp%d with %d threads: %.2f t/s%n", p, threads, mean(tps));
        err.flush();
        return new Result("pp" + p, p, 0, threads, tps, nanos);
    }

    private Result runGen(Sequence seq, int n, int threads, int vocab, SplittableRandom random, PrintWriter err) {
        // The warm-up is the same test once, untimed, as for prefill: a one-token warm-up left the
        // first timed run compiling the decode path (JIT), which showed as a wide spread and a low mean.
        if (!noWarmup) decode(seq, n, vocab, random);
        double[] tps = new double[repetitions];
        long[] nanos = new long[repetitions];
        for (int r = 0; r < repetitions; r++) {
            nanos[r] = decode(seq, n, vocab, random);
            tps[r] = n * 1e9 / nanos[r];
        }
        err.printf(Locale.ROOT, "gearbox: tg%d with %d threads: %.2f t/s%n", n, threads, mean(tps));
        err.flush();
        return new Result("tg" + n, 0, n, threads, tps, nanos);
    }

    private static long prefill(Sequence seq, int[] tokens) {
        seq.truncate(0);
        long t0 = System.nanoTime();
        seq.forward(tokens);
        return System.nanoTime() - t0;
    }

    /**
     * One untimed start token, then n timed single-token steps, each a fresh random id. A step is
     * what generation does with it: where the backend chooses on its device, the step ends with an
     * on-device greedy choice that brings back one id; elsewhere the logits come to the host.
     */
    private static long decode(Sequence seq, int n, int vocab, SplittableRandom random) {
        boolean onDevice = seq.model().backend().choosesOnDevice();
        seq.truncate(0);
        seq.forward(new int[] {random.nextInt(vocab)});
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            int[] token = {random.nextInt(vocab)};
            if (onDevice) seq.forwardChoose(token, GREEDY, i);
            else seq.forward(token);
        }
        return System.nanoTime() - t0;
    }

    private static final TokenChoice GREEDY = new TokenChoice(0f, 0, 1f, 0f, 0);

    private static int[] randomTokens(SplittableRandom random, int n, int vocab) {
        int[] t = new int[n];
        for (int i = 0; i < n; i++) t[i] = random.nextInt(vocab);
        return t;
    }

    private static double mean(double[] v) {
        double s = 0;
        for (double x : v) s += x;
        return s / v.length;
    }

    // ---- output ----

    static String modelName(Model m) {
        return m.config().arch().ggufName() + " " + shortCount(m.config().parameterCount()) + " " + mainWeightType(m);
    }

    /** The type that holds most of the weight bytes, e.g. Q4_0 for a Q4_0 model with F32 norms. */
    static String mainWeightType(Model m) {
        Map<GGMLType, Long> bytes = new EnumMap<>(GGMLType.class);
        for (TensorInfo t : m.file().tensors().values()) bytes.merge(t.type(), t.byteSize(), Long::sum);
        return bytes.entrySet().stream().max(Map.Entry.comparingByValue()).map(e -> e.getKey().name()).orElse("?");
    }

    static String shortCount(long n) {
        if (n >= 1_000_000_000L) return trim(n / 1e9) + "B";
        if (n >= 1_000_000L) return trim(n / 1e6) + "M";
        if (n >= 1_000L) return trim(n / 1e3) + "K";
        return Long.toString(n);
    }

    private static String trim(double v) {
        return v >= 100 ? String.format(Locale.ROOT, "%.0f", v) : String.format(Locale.ROOT, "%.1f", v).replaceAll("\\.0$", "");
    }

    static String params(long n) {
        if (n >= 1_000_000_000L) return String.format(Locale.ROOT, "%.2f B", n / 1e9);
        if (n >= 1_000_000L) return String.format(Locale.ROOT, "%.2f M", n / 1e6);
        if (n >= 1_000L) return String.format(Locale.ROOT, "%.2f K", n / 1e3);
        return Long.toString(n);
    }

    static String bytes(long n) {
        if (n >= 1L << 30) return String.format(Locale.ROOT, "%.2f GiB", n / (double) (1L << 30));
        if (n >= 1L << 20) return String.format(Locale.ROOT, "%.2f MiB", n / (double) (1L << 20));
        if (n >= 1L << 10) return String.format(Locale.ROOT, "%.2f KiB", n / 1024.0);
        return n + " B";
    }

    private void printTable(PrintWriter out, Model m, List<Result> results, long peak) {
        String[] header = {"model", "size", "params", "backend", "threads", "test", "t/s"};
        boolean[] right = {false, true, true, false, true, true, true};
        List<String[]> rows = new ArrayList<>();
        for (Result r : results) {
            rows.add(new String[] {modelName(m), bytes(m.weightBytes()), params(m.config().parameterCount()),
                    m.backend().name(), Integer.toString(r.threads()), r.test(),
                    String.format(Locale.ROOT, "%.2f ± %.2f", r.mean(), r.stddev())});
        }
        int[] width = new int[header.length];
        for (int i = 0; i < header.length; i++) {
            width[i] = Math.max(3, header[i].length());
            for (String[] row : rows) width[i] = Math.max(width[i], row[i].length());
        }
        out.println(line(header, width, right));
        StringBuilder sep = new StringBuilder("|");
        for (int i = 0; i < header.length; i++) {
            sep.append(' ').append("-".repeat(width[i] - (right[i] ? 1 : 0))).append(right[i] ? ":" : "").append(" |");
        }
        out.println(sep);
        for (String[] row : rows) out.println(line(row, width, right));
        out.println();
        printBandwidth(out, m, results);
        out.println("peak memory (VmHWM): " + (peak >= 0 ? bytes(peak) : "n/a (no /proc/self/status)"));
        out.println();
        out.println("model: architecture, parameter count and the weight type holding most bytes; size: bytes of the weight tensors as stored;");
        out.println("params: parameters in the weights; backend: where the forward pass ran; threads: worker threads;");
        out.println("test: ppN = one batched prefill of N random tokens (t/s = N / time), tgN = N single-token decode steps");
        out.println("after a 1-token start (t/s = N / time); t/s: tokens per second, mean ± sample standard deviation over "
                + repetitions + " run(s)" + (noWarmup ? "" : " after one warm-up run") + ".");
    }

    /**
     * Bytes of weights one decode step reads: every tensor once, except that the embedding table
     * gives only one row per token unless it doubles as the output matrix.
     */
    static long decodeWeightBytes(Model m) {
        long total = 0;
        boolean tied = m.file().tensor("output.weight") == null;
        for (TensorInfo t : m.file().tensors().values()) {
            if (t.name().equals("token_embd.weight") && !tied) total += t.byteSize() / Math.max(1, m.config().vocabSize());
            else total += t.byteSize();
        }
        return total;
    }

    /** The device's peak memory bandwidth in bytes/s, -1 when unknown or not on a GPU, null on the CPU. */
    private static CudaDevice gpu(Model m) {
        return m.backend() instanceof CudaBackend cb ? cb.device() : null;
    }

    /**
     * The CPU's memory bandwidth as {@code gearbox profile --calibrate-machine} measured and cached it
     * (every core summing one large array and copying another), or null when nothing is cached.
     */
    private static MachineCeilings cpuCeilings() {
        try {
            return MachineCeilings.load();
        } catch (java.io.IOException e) {
            return null;
        }
    }

    /**
     * Achieved decode bandwidth (weight bytes per token x t/s) next to the ceiling: the card's peak
     * on a GPU, the machine's measured bandwidth (cached by {@code profile --calibrate-machine}) on the CPU.
     */
    private void printBandwidth(PrintWriter out, Model m, List<Result> results) {
        CudaDevice d = gpu(m);
        long perToken = decodeWeightBytes(m);
        if (d == null) {
            MachineCeilings c = cpuCeilings();
            for (Result r : results) {
                if (r.nGen() == 0) continue;
                double bw = perToken * r.mean();
                out.printf(Locale.ROOT, "decode bandwidth (%s): %.1f GB/s = %s weights per token x %.2f t/s; %s%n",
                        r.test(), bw / 1e9, bytes(perToken), r.mean(), c == null
                                ? "machine bandwidth unknown (run gearbox profile --calibrate-machine)"
                                : String.format(Locale.ROOT, "machine %.1f GB/s (profile --calibrate-machine, %d threads, %s): %.1f%%",
                                        c.bytesPerSecond() / 1e9, c.cores(), c.measuredAt(), 100 * bw / c.bytesPerSecond()));
            }
            out.println();
            return;
        }
        for (Result r : results) {
            if (r.nGen() == 0) continue;
            double bw = perToken * r.mean();
            double peak = d.peakBandwidth();
            out.printf(Locale.ROOT, "decode bandwidth (%s): %.1f GB/s = %s weights per token x %.2f t/s; card %s, peak %s%s%n",
                    r.test(), bw / 1e9, bytes(perToken), r.mean(), d.name(), d.peakBandwidthText(),
                    peak > 0 ? String.format(Locale.ROOT, " (%.1f%% of peak)", 100 * bw / peak) : "");
        }
        out.println();
    }

    private static String line(String[] cells, int[] width, boolean[] right) {
        StringBuilder sb = new StringBuilder("|");
        for (int i = 0; i < cells.length; i++) {
            String c = cells[i];
            String pad = " ".repeat(width[i] - c.length());
            sb.append(' ').append(right[i] ? pad + c : c + pad).append(" |");
        }
        return sb.toString();
    }

    private ArrayNode toJson(Model m, List<Result> results, long peak) {
        ArrayNode a = Json.MAPPER.createArrayNode();
        for (Result r : results) {
            ObjectNode o = a.addObject();
            o.put("model_filename", model.toString());
            o.put("model_type", modelName(m));
            o.put("model_size", m.weightBytes());
            o.put("model_n_params", m.config().parameterCount());
            o.put("backends", m.backend().name());
            o.put("n_threads", r.threads());
            o.put("test", r.test());
            o.put("n_prompt", r.nPrompt());
            o.put("n_gen", r.nGen());
            o.put("repetitions", r.tokensPerSecond().length);
            o.put("avg_ts", r.mean());
            o.put("stddev_ts", r.stddev());
            ArrayNode ts = o.putArray("samples_ts");
            for (double v : r.tokensPerSecond()) ts.add(v);
            ArrayNode ns = o.putArray("samples_ns");
            for (long v : r.nanos()) ns.add(v);
            CudaDevice d = gpu(m);
            if (d == null && r.nGen() > 0) {
                long perToken = decodeWeightBytes(m);
                o.put("decode_weight_bytes_per_token", perToken);
                o.put("decode_bandwidth_bytes_per_s", perToken * r.mean());
                MachineCeilings c = cpuCeilings();
                if (c != null) o.put("machine_bandwidth_bytes_per_s", c.bytesPerSecond());
                else o.putNull("machine_bandwidth_bytes_per_s");
            }
            if (d != null && r.nGen() > 0) {
                long perToken = decodeWeightBytes(m);
                o.put("device_name", d.name());
                o.put("decode_weight_bytes_per_token", perToken);
                o.put("decode_bandwidth_bytes_per_s", perToken * r.mean());
                if (d.peakBandwidth() > 0) o.put("peak_bandwidth_bytes_per_s", d.peakBandwidth());
                else o.put("peak_bandwidth_bytes_per_s", "unknown");
            }
            if (peak >= 0) o.put("peak_rss_bytes", peak);
            else o.putNull("peak_rss_bytes");
        }
        return a;
    }

    /** VmHWM (peak resident set) of this process in bytes, or -1 where /proc is not there. */
    static long peakRssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    String[] parts = line.substring(6).trim().split("\\s+");
                    return Long.parseLong(parts[0]) * 1024L; // the kernel reports kB
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}
