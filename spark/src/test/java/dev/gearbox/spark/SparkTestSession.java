package dev.gearbox.spark;

import org.apache.spark.sql.SparkSession;

/**
 * The one SparkSession of the module's tests (a local Spark start costs seconds): two worker threads,
 * as scripts/spark-batch.sh's default {@code local[2]}, and up to two attempts per task (local mode
 * re-runs a failed task only when told, {@code local[N,F]}), for the failure test.
 */
final class SparkTestSession {
    private static SparkSession spark;

    private SparkTestSession() {}

    static synchronized SparkSession get() {
        if (spark == null) {
            spark = SparkSession.builder().master("local[2,2]").appName("gearbox-spark-tests")
                    .config("spark.ui.enabled", "false")
                    .config("spark.sql.shuffle.partitions", "2")
                    .getOrCreate();
            Runtime.getRuntime().addShutdownHook(new Thread(spark::stop));
        }
        return spark;
    }
}
