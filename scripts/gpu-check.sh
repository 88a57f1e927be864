#!/usr/bin/env bash
# One run on a GPU machine (H100/H200 class, no JDK/Maven/network there): builds the CUDA kernels if
# they did not travel, runs the JUnit tests tagged `gpu` (CUDA vs CPU), benchmarks a generated ~1B
# Q8_0 llama on the CUDA backend (prefill 512, decode 128) and prints a short table last.
# Logs go to $OUT when set (the device runner collects it), else target/gpu-check.
#
# Prepare on the build machine, from the repository root (everything below is ignored by git and
# together stays well under the 64 MiB that may travel):
#   ../shared/gpu/make-bundle.sh                               # .device/: Java 25 runtime, JUnit console
#   mvn -q -B -pl java -DskipTests test-compile                          # target/classes, target/test-classes
#   mvn -q -B -pl java dependency:copy-dependencies -DoutputDirectory="$PWD/target/lib" -DincludeScope=test
#   (then drop byte-buddy and the JUnit jars from target/lib: the console launcher has its own)
#   scripts/build-native.sh                                     # target/native/libgearbox_cuda.so (sm_80, sm_90)
#   mkdir -p target/gpu-data && cp ../shared/models/stories260K.gguf target/gpu-data/
#   rm -rf target/native/build target/surefire-reports         # keep what travels lean
# scripts/gpu-prepare.sh does all of that and prints the sizes.
#   (GEARBOX_NATIVE_TESTS=ON for the build above also gives target/native/build/kernel_check: copy it to target/native/)
# carry: .device target/classes target/test-classes target/lib target/native target/gpu-data
# Then on the GPU machine:  source .device/device-env.sh && scripts/gpu-check.sh
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
logs="${OUT:-$root/target/gpu-check}"
mkdir -p "$logs"
say() { echo "gpu-check: $*" | tee -a "$logs/gpu-check.log"; }

: "${JAVA_HOME:?source .device/device-env.sh first (sets JAVA_HOME and JUNIT_CONSOLE)}"
: "${JUNIT_CONSOLE:?source .device/device-env.sh first}"
for d in target/classes target/test-classes target/lib; do
    [ -d "$d" ] || { say "missing $d: run the preparation commands at the top of this script on the build machine"; exit 1; }
done
java="$JAVA_HOME/bin/java"
flags=(--add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED)
cp="target/classes:target/test-classes"
for j in target/lib/*.jar; do cp="$cp:$j"; done

nvidia-smi > "$logs/nvidia-smi.txt" 2>&1 || true
say "gpu: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -n 1)"

# 1. kernels
if [ ! -f target/native/libgearbox_cuda.so ]; then
    say "building the CUDA kernels (target/native/libgearbox_cuda.so missing)"
    GEARBOX_CUDA_ARCHS="${GEARBOX_CUDA_ARCHS:-90}" scripts/build-native.sh > "$logs/build-native.log" 2>&1 \
        || { say "native build failed: see $logs/build-native.log"; tail -n 30 "$logs/build-native.log"; exit 1; }
fi

# 2. kernels against host references (native/test/kernel_check, when it travelled)
kc_rc=skipped
if [ -x target/native/kernel_check ]; then
    say "running kernel_check"
    timeout 120 target/native/kernel_check > "$logs/kernel-check.log" 2>&1
    kc_rc=$?
    say "kernel_check: rc=$kc_rc (0 = all pass)"
    [ "$kc_rc" = 0 ] || tail -n 25 "$logs/kernel-check.log"
fi

# 3. gpu tests (CUDA vs CPU)
say "running the gpu-tagged tests"
t0=$(date +%s)
timeout 240 "$java" "${flags[@]}" -Xmx8g -Xss8m -jar "$JUNIT_CONSOLE" execute --class-path "$cp" --select-package dev.gearbox \
    --include-tag gpu --details=tree --disable-banner --disable-ansi-colors > "$logs/gpu-tests.log" 2>&1
tests_rc=$?
tests_s=$(( $(date +%s) - t0 ))
count() { grep -E "^\[ *[0-9]+ $1" "$logs/gpu-tests.log" | grep -oE '[0-9]+' | head -n 1; }
t_ok=$(count "tests successful"); t_fail=$(count "tests failed")
t_skip=$(( $(count "tests skipped" || echo 0) + $(count "tests aborted" || echo 0) + $(count "containers aborted" || echo 0) ))
# On a GPU machine nothing may be skipped: a skip there means the device was not found.
if [ "$tests_rc" = 0 ] && { [ "${t_ok:-0}" = 0 ] || [ "$t_skip" != 0 ]; }; then tests_rc=99; fi
say "gpu tests: rc=$tests_rc, ${t_ok:-?} passed, ${t_fail:-?} failed, ${t_skip} skipped or aborted in ${tests_s}s"
[ "$tests_rc" = 0 ] || grep -E "✘|■|Exception|Expecting|relative" "$logs/gpu-tests.log" | head -n 40

# 4. benchmark: generated ~1B Q8_0 llama, prefill 512, decode 128
model="${GEARBOX_BENCH_MODEL:-/tmp/gearbox-1b-q8_0.gguf}"
if [ ! -f "$model" ]; then
    say "generating $model (synth --preset 1b --type Q8_0)"
    "$java" "${flags[@]}" -cp "$cp" dev.gearbox.cli.Main synth --preset 1b --type Q8_0 -o "$model" > "$logs/synth.log" 2>&1 \
        || { say "synth failed: see $logs/synth.log"; tail -n 20 "$logs/synth.log"; exit 1; }
fi
say "benchmarking on the CUDA backend"
t0=$(date +%s)
timeout 200 "$java" "${flags[@]}" -Xmx8g -cp "$cp" dev.gearbox.cli.Main bench -m "$model" --backend cuda -p 512 -n 128 -r 5 --json \
    > "$logs/bench.json" 2> "$logs/bench.log"
bench_rc=$?
say "bench: rc=$bench_rc in $(( $(date +%s) - t0 ))s"
[ "$bench_rc" = 0 ] || tail -n 20 "$logs/bench.log"

# 5. the table, last
python3 - "$logs/bench.json" "$tests_rc" "${t_ok:-?}" "${t_fail:-?}" "${t_skip:-?}" "$kc_rc" <<'PY' | tee "$logs/summary.md"
import json, sys
path, rc, ok, fail, skip, kc = sys.argv[1:7]
rows = [("kernel_check (kernels vs host)", f"rc={kc}", "PASS" if kc == "0" else ("not run" if kc == "skipped" else "FAIL")),
        ("gpu tests (CUDA vs CPU)", f"{ok} passed, {fail} failed, {skip} skipped/aborted", "PASS" if rc == "0" else "FAIL")]
try:
    res = json.load(open(path))
except Exception as e:
    res = []
    rows.append(("bench", f"no results ({e.__class__.__name__})", "FAIL"))
params = None
for r in res:
    params = r.get("model_n_params")
    if r["test"].startswith("pp"):
        flops = 2.0 * params * r["avg_ts"]  # 2 x params per token, attention left out
        rows.append((f"prefill {r['test']} ({r['model_type']})", f"{r['avg_ts']:.1f} t/s, ~{flops/1e12:.1f} TFLOP/s",
                     f"{100*flops/790e12:.1f}% of 790 TFLOP/s bf16"))
    else:
        bw, peak = r.get("decode_bandwidth_bytes_per_s"), r.get("peak_bandwidth_bytes_per_s")
        pk = f"{100*bw/peak:.1f}% of {peak/1e12:.2f} TB/s peak" if isinstance(peak, (int, float)) and bw else "peak unknown"
        rows.append((f"decode {r['test']} ({r.get('device_name','?')})", f"{r['avg_ts']:.1f} t/s, {bw/1e9 if bw else 0:.0f} GB/s", pk))
w = [max(len(x[i]) for x in rows + [("check", "result", "vs goal")]) for i in range(3)]
print()
print("| " + " | ".join(h.ljust(w[i]) for i, h in enumerate(("check", "result", "vs goal"))) + " |")
print("|" + "|".join("-" * (x + 2) for x in w) + "|")
for row in rows:
    print("| " + " | ".join(c.ljust(w[i]) for i, c in enumerate(row)) + " |")
PY
[ "$tests_rc" = 0 ] && [ "$bench_rc" = 0 ]
