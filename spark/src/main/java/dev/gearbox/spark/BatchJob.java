package dev.gearbox.spark;

import dev.gearbox.batch.BatchRunner;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SaveMode;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;

import static org.apache.spark.sql.functions.col;

/**
 * {@code gearbox batch} as a Spark job: OpenAI Batch API input lines in, output lines out (text part
 * files under OUTPUT_DIR), for {@code spark-submit} or scripts/spark-batch.sh.
 *
 * <p>The input lines are numbered as in the file, keyed by their {@code custom_id} (a line without
 * one by its number) and hash-partitioned by that key, so a repeated {@code custom_id} lands in one
 * partition, where it becomes an error line as in {@code gearbox batch}. Each partition is answered
 * by {@link BatchRunner#answer} on the executor's one ladder ({@link ExecutorLadder}): the same
 * parsing, routing (everything first) and per-tier feeding as {@code gearbox batch}, so the
 * answers are the same. Output goes through Spark's file commit protocol: only a task attempt that
 * finished commits its part file, so a task Spark re-runs after a failure writes each
 * {@code custom_id} once.
 */
public final class BatchJob {
    static final String USAGE = "usage: BatchJob INPUT.jsonl OUTPUT_DIR [--ladder LADDER.yaml] [--partitions N] [--queue N] [--overwrite]";
    /** Test only: the first attempt of partition 0 fails after emitting half its lines (Spark must re-run it). */
    static final String FAIL_ONCE = "spark.gearbox.test.failFirstAttempt";
    static final AtomicInteger INJECTED_FAILURES = new AtomicInteger();

    private BatchJob() {}

    /**
     * @param partitions 0 = Spark's default parallelism
     * @param queue      requests waiting per tier on each executor's scheduler (as {@code gearbox batch --queue})
     */
    public record Options(String input, String output, String ladder, int partitions, int queue, boolean overwrite) {
        public Options {
            if (partitions < 0) throw new IllegalArgumentException("--partitions must be >= 0 (0: Spark's default parallelism), got " + partitions);
            if (queue < 1) throw new IllegalArgumentException("--queue must be at least 1, got " + queue);
        }

        static Options parse(String[] args) {
            List<String> positional = new ArrayList<>();
            String ladder = "models/ladder.yaml";
            int partitions = 0, queue = 64;
            boolean overwrite = false;
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                switch (a) {
                    case "--ladder" -> ladder = value(args, ++i, a);
                    case "--partitions" -> partitions = integer(value(args, ++i, a), a);
                    case "--queue" -> queue = integer(value(args, ++i, a), a);
                    case "--overwrite" -> overwrite = true;
                    default -> {
                        if (a.startsWith("--")) throw new IllegalArgumentException("unknown option " + a);
                        positional.add(a);
                    }
                }
            }
            if (positional.size() != 2) throw new IllegalArgumentException("expected INPUT.jsonl and OUTPUT_DIR, got " + positional);
            return new Options(positional.get(0), positional.get(1), ladder, partitions, queue, overwrite);
        }

        private static String value(String[] args, int i, String option) {
            if (i >= args.length) throw new IllegalArgumentException(option + " needs a value");
            return args[i];
        }

        private static int integer(String v, String option) {
            try {
                return Integer.parseInt(v);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(option + " must be an integer, got '" + v + "'");
            }
        }
    }

    public static void main(String[] args) {
        Options o;
        try {
            o = Options.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("gearbox-spark: " + e.getMessage());
            System.err.println(USAGE);
            System.exit(2);
            return;
        }
        SparkSession spark = SparkSession.builder().appName("gearbox batch").getOrCreate();
        try {
            long t0 = System.nanoTime();
            long n = run(spark, o);
            System.err.printf(java.util.Locale.ROOT, "gearbox-spark: %d output lines in %s (%.1f s, master %s)%n",
                    n, o.output(), (System.nanoTime() - t0) / 1e9, spark.sparkContext().master());
        } catch (Exception e) {
            // a missing input, an existing OUTPUT_DIR (Spark's AnalysisException, checked in Java's eyes): one line, not a stack trace
            if (!(e instanceof org.apache.spark.sql.AnalysisException)) throw e;
            System.err.println("gearbox-spark: " + e.getMessage().lines().findFirst().orElse("") );
            spark.stop();
            System.exit(1);
        } finally {
            spark.stop();
        }
    }

    static final StructType LINES = new StructType()
            .add("line", DataTypes.IntegerType, false)
            .add("key", DataTypes.StringType, false)
            .add("text", DataTypes.StringType, false);
    static final StructType OUTPUT = new StructType()
            .add("custom_id", DataTypes.StringType, true)
            .add("json", DataTypes.StringType, false);

    /** Runs the job; returns how many output lines OUTPUT_DIR holds. */
    public static long run(SparkSession spark, Options o) {
        // Executors read the ladder from this path: made absolute here, where a relative one means something.
        String ladder = Path.of(o.ladder()).toAbsolutePath().normalize().toString();
        Dataset<Row> outputs = answer(spark, spark.read().textFile(o.input()), ladder, o.partitions(), o.queue());
        outputs.select("json").write().mode(o.overwrite() ? SaveMode.Overwrite : SaveMode.ErrorIfExists).text(o.output());
        return spark.read().text(o.output()).count();
    }

    /** Output lines ({@code custom_id}, {@code json}) for input lines, answered per partition on each executor's ladder. */
    static Dataset<Row> answer(SparkSession spark, Dataset<String> input, String ladder, int partitions, int queue) {
        var numbered = input.javaRDD().zipWithIndex()
                .filter(t -> !t._1().isBlank())
                .map(t -> {
                    int line = Math.toIntExact(t._2() + 1);
                    String id = BatchRunner.customIdOf(t._1());
                    return RowFactory.create(line, id != null ? "id:" + id : "line:" + line, t._1());
                });
        int n = partitions > 0 ? partitions : spark.sparkContext().defaultParallelism();
        boolean failOnce = spark.conf().get(FAIL_ONCE, "false").equals("true");
        return spark.createDataFrame(numbered, LINES)
                .repartition(n, col("key"))
                .sortWithinPartitions("line")
                .mapPartitions(new AnswerPartition(ladder, queue, failOnce), Encoders.row(OUTPUT));
    }

    /** One partition's lines through {@link BatchRunner#answer} on this executor's ladder. */
    private record AnswerPartition(String ladder, int queue, boolean failOnce) implements MapPartitionsFunction<Row, Row> {
        @Override
        public Iterator<Row> call(Iterator<Row> rows) {
            List<BatchRunner.Line> lines = new ArrayList<>();
            while (rows.hasNext()) {
                Row r = rows.next();
                lines.add(new BatchRunner.Line(r.getInt(0), r.getString(2)));
            }
            List<BatchRunner.Output> answered;
            try {
                answered = ExecutorLadder.runner(ladder, queue).answer(lines);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
            List<Row> out = new ArrayList<>(answered.size());
            for (BatchRunner.Output a : answered) out.add(RowFactory.create(a.customId(), a.json()));
            TaskContext task = TaskContext.get();
            if (failOnce && task != null && task.partitionId() == 0 && task.attemptNumber() == 0) {
                // Half the lines reach the writer, then the attempt dies: its part file must not be committed.
                int half = out.size() / 2;
                Iterator<Row> it = out.iterator();
                return new Iterator<>() {
                    int given;

                    public boolean hasNext() {
                        return true;
                    }

                    public Row next() {
                        if (given++ < half && it.hasNext()) return it.next();
                        INJECTED_FAILURES.incrementAndGet();
                        throw new IllegalStateException("injected failure (" + FAIL_ONCE + ") after " + half + " lines");
                    }
                };
            }
            return out.iterator();
        }
    }
}
