#!/usr/bin/env bash
# Trains Gearbox's default ladder end to end and writes models/:
#   data rows (calibration + held-out) -> tiers s, m, l in PyTorch (two processes at a time, one per
#   core: l on one, s then m on the other) -> GGUF export through Gearbox's own writer -> accuracy on
#   the held-out rows measured by Gearbox -> ladder.yaml, MODEL_CARD.md, reference logits.
#
# Usage: scripts/train-ladder.sh [--steps N] [--steps-s N] [--steps-m N] [--steps-l N] [--batch N]
#                                [--rows N] [--seed N] [--models DIR] [--work DIR]
# Defaults: 4500 steps per tier (equal steps and data for every tier), batch 128, 600 rows per file.
# The committed models/ came from `scripts/train-ladder.sh --steps 4500` (16 min 47 s on the shared
# 2-core build machine, under nice -n 5); models/MODEL_CARD.md records the run.
# Needs Debian's python3-torch (/usr/bin/python3; with libopenblas0-pthread it is ~5x faster), JDK 25, Maven.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

steps=4500; steps_s=""; steps_m=""; steps_l=""; batch=128; rows=600; seed=1234
models=models; work=build/ladder
cmdline="scripts/train-ladder.sh $*"
while [ $# -gt 0 ]; do
    case "$1" in
        --steps) steps="$2"; shift 2 ;;
        --steps-s) steps_s="$2"; shift 2 ;;
        --steps-m) steps_m="$2"; shift 2 ;;
        --steps-l) steps_l="$2"; shift 2 ;;
        --batch) batch="$2"; shift 2 ;;
        --rows) rows="$2"; shift 2 ;;
        --seed) seed="$2"; shift 2 ;;
        --models) models="$2"; shift 2 ;;
        --work) work="$2"; shift 2 ;;
        -h|--help) sed -n '2,/^set /{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "train-ladder: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done
steps_s="${steps_s:-$steps}"; steps_m="${steps_m:-$steps}"; steps_l="${steps_l:-$steps}"

PY=/usr/bin/python3
[ -x "$PY" ] || { echo "train-ladder: needs $PY with Debian's python3-torch" >&2; exit 1; }
"$PY" -c 'import torch' 2>/dev/null || { echo "train-ladder: $PY cannot import torch (apt-get install python3-torch libopenblas0-pthread)" >&2; exit 1; }
# One thread per process: two threads in one process were no faster than one (LADDER-NOTES).
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

start=$(date +%s)
mkdir -p "$models/data" "$models/reference" "$work"
tl() { "$PY" scripts/train-ladder.py --models "$models" --work "$work" --seed "$seed" "$@"; }
say() { echo "[$(date -u +%H:%M:%S)] $*"; }

say "data: $rows calibration + $rows held-out rows"
tl data --rows "$rows"

say "training: l ($steps_l steps) on one core; s ($steps_s) then m ($steps_m) on the other; logs in $work/"
# Each training process in its own session, so that with the kernel's autogroup scheduling each
# counts as one job (like two terminals), rather than both sharing one job's CPU share.
py_tl=("$PY" scripts/train-ladder.py --models "$models" --work "$work" --seed "$seed")
setsid -w "${py_tl[@]}" train --tier l --steps "$steps_l" --batch "$batch" > "$work/train-l.out" 2>&1 &
pid_l=$!
setsid -w bash -c 's=$1 b=$2 m=$3; shift 3; "$@" train --tier s --steps "$s" --batch "$b" && "$@" train --tier m --steps "$m" --batch "$b"' \
    _ "$steps_s" "$batch" "$steps_m" "${py_tl[@]}" > "$work/train-sm.out" 2>&1 &
pid_sm=$!
fail=0
wait "$pid_sm" || { echo "train-ladder: tiers s/m failed, see $work/train-sm.out" >&2; fail=1; }
say "s and m done"
wait "$pid_l" || { echo "train-ladder: tier l failed, see $work/train-l.out" >&2; fail=1; }
[ "$fail" = 0 ] || exit 1
say "l done"
grep -h "PyTorch greedy" "$work/train-sm.out" "$work/train-l.out"

# Gearbox from here on: the launcher (re)builds target/gearbox.jar when the sources are newer.
scripts/gearbox --version > /dev/null
. scripts/jdk.sh
gearbox_find_jdk
java=("$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp target/gearbox.jar)
quiet() { grep -v '^WARNING: Using incubator modules' || true; }

say "export: GGUF through dev.gearbox.ladder.train.TierExporter"
"${java[@]}" dev.gearbox.ladder.train.TierExporter \
    "$work/tier-s.manifest.json" "$models/tier-s.gguf" \
    "$work/tier-m.manifest.json" "$models/tier-m.gguf" \
    "$work/tier-l.manifest.json" "$models/tier-l.gguf" 2>&1 | quiet
for t in s m l; do cp "$work/tier-$t.probes.json" "$models/reference/tier-$t.probes.json"; done

say "accuracy on $models/data/heldout.jsonl, measured by Gearbox"
"${java[@]}" dev.gearbox.ladder.train.TierEvaluator "$models/data/heldout.jsonl" "$work/gearbox-answers.jsonl" \
    "$models/tier-s.gguf" "$models/tier-m.gguf" "$models/tier-l.gguf" 2>&1 | quiet

cat > "$models/ladder.yaml" <<'EOF'
# Gearbox's default ladder, written by scripts/train-ladder.sh (see MODEL_CARD.md).
name: default
gatekeeper: {model: tier-s.gguf}          # the smallest tier reads every prompt first, on the CPU
router: router.json                      # written by `gearbox calibrate`; absent => zero-shot rule
max_answer_tokens: 24
tiers:                                   # smallest first
  - {name: s, model: tier-s.gguf, backend: cpu, device: 0, streams: 4, max_sequences: 16, context: 256,
     escalate: {window: 4, min_mean_logprob: -0.5}}
  - {name: m, model: tier-m.gguf, backend: cpu, device: 0, streams: 2, max_sequences: 8, context: 256,
     escalate: {window: 4, min_mean_logprob: -0.5}}
  - {name: l, model: tier-l.gguf, backend: cpu, device: 0, streams: 1, max_sequences: 4, context: 256}
ensemble: {enabled: true, tiers: [m, l], weights: [0.4, 0.6]}
EOF

end=$(date +%s)
wall="$(( (end - start) / 60 )) min $(( (end - start) % 60 )) s"
say "report: $models/MODEL_CARD.md (wall time so far $wall)"
tl report --gearbox-answers "$work/gearbox-answers.jsonl" --command "$cmdline" --wall "$wall" \
    --machine "a $(getconf _NPROCESSORS_ONLN)-core $(uname -m) machine ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), niceness $(nice), shared with other jobs)"
du -sh "$models"
say "done in $wall"
