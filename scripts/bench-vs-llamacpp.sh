#!/usr/bin/env bash
# Gearbox against llama.cpp on the generator's models, side by side, printed as a Markdown table.
#
#   scripts/bench-vs-llamacpp.sh [LLAMA_BENCH]
#
# LLAMA_BENCH: llama.cpp's llama-bench (else `llama-bench` on PATH). Without one, llama.cpp runs
# through scripts/llamacpp-bench/ (node-llama-cpp's prebuilt llama.cpp libraries, pinned in its
# package.json and installed into target/llamacpp-bench/ on first use; needs node and npm).
#
# For every preset and type it makes `scripts/gearbox synth --preset P --type T --seed 1` (kept in
# target/bench-models/), then for ROUNDS rounds runs, per file and thread count, `gearbox bench`
# and then llama.cpp with the same `-p P -n N -r R -t T`. Ratio = Gearbox t/s / llama.cpp t/s.
# With llama-quantize (LLAMA_QUANTIZE or on PATH) Q4_K_M and Q5_K_M are quantized by it from an
# F16 synth; without it the generator's Q4_K and Q5_K files (every matrix of that type) stand in.
#
# Environment: PRESETS (default "110m"; "110m 1b" for both), TYPES (default "Q8_0 Q4_0 Q4_K_M
# Q5_K_M Q6_K"), THREADS (default "2"; e.g. "1 2"), ROUNDS (2), P (512), N (128), R (3).
# Raw JSON of every run is kept under target/bench-vs-llamacpp/<time>/.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
PRESETS="${PRESETS:-110m}"
TYPES="${TYPES:-Q8_0 Q4_0 Q4_K_M Q5_K_M Q6_K}"
THREADS="${THREADS:-2}"
ROUNDS="${ROUNDS:-2}"
P="${P:-512}" N="${N:-128}" R="${R:-3}"
command -v python3 >/dev/null || { echo "bench-vs-llamacpp: needs python3 (to read the JSON results)" >&2; exit 1; }

llama_bench="${1:-$(command -v llama-bench || true)}"
harness="$root/target/llamacpp-bench"
if [ -n "$llama_bench" ]; then
    [ -x "$llama_bench" ] || { echo "bench-vs-llamacpp: $llama_bench is not executable" >&2; exit 1; }
    engine="llama-bench ($llama_bench)"
else
    command -v node >/dev/null && command -v npm >/dev/null ||
        { echo "bench-vs-llamacpp: no llama-bench (argument or PATH), and no node/npm for the fallback harness" >&2; exit 1; }
    mkdir -p "$harness"
    cp "$root/scripts/llamacpp-bench/package.json" "$root/scripts/llamacpp-bench/bench.mjs" "$harness/"
    if [ ! -d "$harness/node_modules/node-llama-cpp" ]; then
        echo "bench-vs-llamacpp: installing node-llama-cpp into $harness ..." >&2
        # only the prebuilt CPU binaries (no CUDA/Vulkan packages); never download or build llama.cpp
        (cd "$harness" && NODE_LLAMA_CPP_SKIP_DOWNLOAD=true npm install --omit=optional --no-audit --no-fund >&2)
    fi
    engine="node-llama-cpp harness (scripts/llamacpp-bench)"
fi
quantize="${LLAMA_QUANTIZE:-$(command -v llama-quantize || true)}"

models="$root/target/bench-models"
out="$root/target/bench-vs-llamacpp/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$models" "$out"

# The file for preset $1 and type $2 (made when missing); prints its path.
model_file() {
    local preset="$1" type="$2" f
    case "$type" in
        Q4_K_M | Q5_K_M)
            if [ -n "$quantize" ]; then
                f="$models/llama$preset-$type.gguf"
                if [ ! -f "$f" ]; then
                    [ -f "$models/llama$preset-F16.gguf" ] ||
                        scripts/gearbox synth --preset "$preset" --type F16 --seed 1 -o "$models/llama$preset-F16.gguf" >&2
                    "$quantize" "$models/llama$preset-F16.gguf" "$f" "$type" >&2
                fi
                echo "$f"
                return
            fi
            type="${type%_M}" ;;
    esac
    f="$models/llama$preset-$type.gguf"
    [ -f "$f" ] || scripts/gearbox synth --preset "$preset" --type "$type" --seed 1 -o "$f" >&2
    echo "$f"
}

run_llama() { # file threads json-out
    if [ -n "$llama_bench" ]; then
        "$llama_bench" -m "$1" -p "$P" -n "$N" -r "$R" -t "$2" -o json >"$3"
    else
        (cd "$harness" && node bench.mjs -m "$1" -p "$P" -n "$N" -r "$R" -t "$2") >"$3"
    fi
}

load_start="$(cut -d' ' -f1-3 /proc/loadavg)"
for round in $(seq 1 "$ROUNDS"); do
    for preset in $PRESETS; do
        for type in $TYPES; do
            f="$(model_file "$preset" "$type")"
            for t in $THREADS; do
                tag="$preset-$type-t$t-r$round"
                echo "bench-vs-llamacpp: round $round $preset $type $t threads: gearbox ..." >&2
                scripts/gearbox bench -m "$f" -p "$P" -n "$N" -r "$R" -t "$t" --json >"$out/$tag-gearbox.json"
                echo "bench-vs-llamacpp: round $round $preset $type $t threads: llama.cpp ..." >&2
                run_llama "$f" "$t" "$out/$tag-llamacpp.json"
            done
        done
    done
done
load_end="$(cut -d' ' -f1-3 /proc/loadavg)"

cpu="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
OUT="$out" PRESETS="$PRESETS" TYPES="$TYPES" THREADS="$THREADS" ROUNDS="$ROUNDS" P="$P" N="$N" R="$R" \
ENGINE="$engine" QUANT="$quantize" CPU="$cpu" NCPU="$(nproc)" LOAD0="$load_start" LOAD1="$load_end" python3 - <<'EOF'
import json, os, datetime
e = os.environ
out, rounds = e["OUT"], int(e["ROUNDS"])
P, N = int(e["P"]), int(e["N"])

def tps(path, prompt):
    for o in json.load(open(path)):
        if (prompt and o["n_prompt"] == P and o["n_gen"] == 0) or (not prompt and o["n_gen"] == N and o["n_prompt"] == 0):
            return o["avg_ts"], o
    raise SystemExit(f"no {'pp' if prompt else 'tg'} result in {path}")

variant = build = None
print(f"{datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, {e['CPU']}, {e['NCPU']} CPUs; "
      f"load average {e['LOAD0']} at the start, {e['LOAD1']} at the end")
print(f"llama.cpp: {e['ENGINE']}")
print(f"each round, per file: `gearbox bench -m F -p {P} -n {N} -r {e['R']} -t T`, then llama.cpp with the same arguments; "
      f"{rounds} rounds; ratio = Gearbox / llama.cpp t/s (rounds separated by /)")
if not e["QUANT"]:
    print("no llama-quantize: Q4_K_M and Q5_K_M are the generator's Q4_K and Q5_K files (every matrix that type)")
print()
print(f"| model | type | threads | pp{P} Gearbox | pp{P} llama.cpp | **pp{P} ratio** | tg{N} Gearbox | tg{N} llama.cpp | **tg{N} ratio** |")
print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
for preset in e["PRESETS"].split():
    for typ in e["TYPES"].split():
        for t in e["THREADS"].split():
            cells = {k: [] for k in ("pg", "pl", "pr", "tgg", "tgl", "tr")}
            for r in range(1, rounds + 1):
                tag = f"{out}/{preset}-{typ}-t{t}-r{r}"
                pg, _ = tps(tag + "-gearbox.json", True)
                tg_, _ = tps(tag + "-gearbox.json", False)
                pl, lo = tps(tag + "-llamacpp.json", True)
                tl, _ = tps(tag + "-llamacpp.json", False)
                variant = lo.get("cpu_variant", variant)
                build = lo.get("build", lo.get("build_commit", build))
                cells["pg"].append(f"{pg:.0f}"); cells["pl"].append(f"{pl:.0f}"); cells["pr"].append(f"{pg / pl:.2f}")
                cells["tgg"].append(f"{tg_:.0f}"); cells["tgl"].append(f"{tl:.0f}"); cells["tr"].append(f"{tg_ / tl:.2f}")
            j = lambda k: " / ".join(cells[k])
            print(f"| {preset} | {typ} | {t} | {j('pg')} | {j('pl')} | **{j('pr')}** | {j('tgg')} | {j('tgl')} | **{j('tr')}** |")
print()
print(f"llama.cpp build: {build}" + (f", CPU variant loaded: libggml-cpu-{variant}.so" if variant else ""))
print(f"raw results: {out}")
EOF
