#!/usr/bin/env bash
# On the build machine (JDK 25, Maven, nvcc): everything scripts/gpu-check.sh needs on a bare GPU
# machine, in ignored folders that together stay well under the 64 MiB that may travel.
# Carry afterwards: .device target/classes target/test-classes target/lib target/native target/gpu-data
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
. scripts/jdk.sh
gearbox_find_jdk
export JAVA_HOME
[ -f .device/jre.tgz ] && [ -f .device/junit-platform-console-standalone.jar ] || ../shared/gpu/make-bundle.sh
mvn -q -B -pl java -DskipTests test-compile
rm -rf target/lib
mvn -q -B -pl java dependency:copy-dependencies -DoutputDirectory="$root/target/lib" -DincludeScope=test
# To fit in 64 MiB: JUnit's jars go (the console launcher carries its own) and so does AssertJ's
# byte-buddy (9 MB, only for soft assertions and proxies, which the gpu tests do not use). Everything
# the CLI loads stays, since picocli instantiates every subcommand.
# Prometheus' exposition formats (2 MB) are only loaded to answer a metrics scrape.
(cd target/lib && rm -f byte-buddy-*.jar junit-*.jar opentest4j-*.jar apiguardian-*.jar prometheus-metrics-exposition-formats-*.jar)
GEARBOX_NATIVE_TESTS=ON scripts/build-native.sh
# kernel_check (every kernel against host references) travels too; the build folder does not.
cp target/native/build/kernel_check target/native/kernel_check
rm -rf target/native/build
mkdir -p target/gpu-data
if [ -f ../shared/models/stories260K.gguf ]; then cp ../shared/models/stories260K.gguf target/gpu-data/; fi
rm -rf target/surefire-reports target/gpu-check
du -sh .device target/classes target/test-classes target/lib target/native target/gpu-data
carried=$(du -cb .device target/classes target/test-classes target/lib target/native target/gpu-data | tail -n 1 | cut -f1)
tracked=$(git ls-files -z | xargs -0 du -cb 2>/dev/null | tail -n 1 | cut -f1)
echo "gpu-prepare: carried $((carried / 1048576)) MiB + tracked files $((tracked / 1048576)) MiB (limit 64 MiB in all)"
[ $((carried + tracked)) -lt $((64 * 1048576)) ] || { echo "gpu-prepare: too big to travel" >&2; exit 1; }
