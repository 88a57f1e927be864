#!/usr/bin/env bash
# The Spark batch job (dev.gearbox.spark.BatchJob) on an OpenAI Batch input file: OpenAI batch
# output lines in text part files under OUTPUT_DIR (part-*.txt; `cat OUTPUT_DIR/part-*` is the whole
# output). The same answers as `scripts/gearbox batch INPUT OUTPUT.jsonl` (docs/spark.md).
#
#   scripts/spark-batch.sh INPUT.jsonl OUTPUT_DIR [--master URL] [--ladder L.yaml] [--partitions N] [--queue N] [--overwrite]
#
# --master: Spark's master URL (default local[2]: two tasks at once in this JVM, sharing its one
# ladder). The job runs in this JVM as Spark's driver (what spark-submit --deploy-mode client does),
# on the classpath Maven resolved for the spark module (Spark 4.1 from Maven Central), built first
# when missing or older than the sources. --ladder defaults to this repository's models/ladder.yaml;
# every executor must be able to read the ladder at that path.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# shellcheck source=scripts/jdk.sh
. "$root/scripts/jdk.sh"
gearbox_find_jdk

master="local[2]"
args=(--ladder "$root/models/ladder.yaml")
while [ $# -gt 0 ]; do
    case "$1" in
        --master) [ $# -ge 2 ] || { echo "spark-batch: --master needs a URL" >&2; exit 2; }; master="$2"; shift 2 ;;
        --master=*) master="${1#--master=}"; shift ;;
        *) args+=("$1"); shift ;;
    esac
done

cpfile="$root/spark/target/classpath.txt"
if [ ! -s "$cpfile" ] || [ -n "$(find "$root/pom.xml" "$root/java/pom.xml" "$root/spark/pom.xml" "$root/java/src/main" "$root/spark/src/main" -newer "$cpfile" -print -quit 2>/dev/null)" ]; then
    command -v mvn >/dev/null || { echo "spark-batch: the spark module needs building and mvn is not installed" >&2; exit 1; }
    echo "spark-batch: building the spark module ..." >&2
    log="$(mktemp)"
    if ! (cd "$root" && mvn -q -B -pl spark -am -DskipTests process-classes) >"$log" 2>&1; then
        cat "$log" >&2
        rm -f "$log"
        echo "spark-batch: build failed (mvn -B -pl spark -am -DskipTests process-classes)" >&2
        exit 1
    fi
    rm -f "$log"
    touch "$cpfile"   # the dependency plugin leaves an unchanged classpath file as it was: mark it built
fi
"$root/scripts/build-native-cpu.sh" >/dev/null || echo "spark-batch: native CPU kernels not built; using the Vector API kernels" >&2

# Spark's own launcher flags for JDK 17+ (its JavaModuleOptions; less sun.security.action, which JDK 25
# no longer has; Spark's sun.misc.Unsafe use allowed without a warning), then the engine's (Vector API, FFM).
flags=(-XX:+IgnoreUnrecognizedVMOptions
    --add-opens=java.base/java.lang=ALL-UNNAMED --add-opens=java.base/java.lang.invoke=ALL-UNNAMED
    --add-opens=java.base/java.lang.reflect=ALL-UNNAMED --add-opens=java.base/java.io=ALL-UNNAMED
    --add-opens=java.base/java.net=ALL-UNNAMED --add-opens=java.base/java.nio=ALL-UNNAMED
    --add-opens=java.base/java.util=ALL-UNNAMED --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
    --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED --add-opens=java.base/sun.nio.cs=ALL-UNNAMED
    --add-opens=java.base/sun.util.calendar=ALL-UNNAMED
    -Djdk.reflect.useDirectMethodHandle=false -Dio.netty.tryReflectionSetAccessible=true
    --sun-misc-unsafe-memory-access=allow
    --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -XX:+UseParallelGC)
# shellcheck disable=SC2086
exec "$JAVA_HOME/bin/java" ${JAVA_OPTS:-} "${flags[@]}" \
    -Dspark.master="$master" -Dspark.ui.enabled=false \
    -Dlog4j2.configurationFile="$root/spark/log4j2.properties" \
    -cp "$root/spark/target/classes:$(cat "$cpfile")" dev.gearbox.spark.BatchJob "${args[@]}" \
    2> >(grep -v --line-buffered '^WARNING: Using incubator modules: jdk.incubator.vector$' >&2)
