#!/usr/bin/env bash
# Trains SVF experts (Transformer², arXiv 2501.06252) for tiers of the default ladder and writes
# models/experts/<tier>-<task>.gguf, their `experts:` entries in models/ladder.yaml and the SVF
# section of models/MODEL_CARD.md:
#   per tier x task: z trained with REINFORCE (the committed expert) and with cross-entropy on the
#   reference answers (the supervised baseline, kept in the work folder) by scripts/train-experts.py,
#   two processes at a time -> expert GGUFs through dev.gearbox.svf.ExpertExporter (Gearbox's
#   GGUFWriter, the base model's SHA-256) -> Gearbox's own SVD sidecar of each tier and dense W'
#   copies of the tier per expert (F32, work folder only) -> held-out accuracy of the base tiers and
#   of every dense copy measured by dev.gearbox.ladder.train.TierEvaluator -> the report.
#
# Usage: scripts/train-experts.sh [--tiers "s m"] [--tasks "add mul rev sort"] [--matrices mlp|attn|all]
#                                 [--steps N] [--batch N] [--samples K] [--lr X] [--kl X] [--baseline none|mean|loo]
#                                 [--models DIR] [--work DIR] [--python PY]
# Defaults: tiers s and m, all four tasks, matrices all (MLP alone lifted less), 700 steps of 32
# prompts (REINFORCE: 4 sampled answers each, leave-one-out baseline, KL weight 0.01), Adam lr 0.005. The committed experts came from the command in MODEL_CARD.md.
# Rerun after scripts/train-ladder.sh: new tier weights invalidate the experts (Ladder.open refuses
# an expert whose base SHA-256 is not the tier's), and train-ladder.sh rewrites ladder.yaml and
# MODEL_CARD.md without them.
# Needs PyTorch (CPU) and numpy: unless --python is given, a venv at build/svf-venv is made with
# `python3 -m venv` and `pip install torch numpy` on first use. Also JDK 25 and Maven (the launcher
# builds target/gearbox.jar).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

tiers="s m"; tasks="add mul rev sort"; matrices=all; steps=700; batch=32; samples=4; lr=0.005; kl=0.01; baseline=loo
models=models; work=build/experts; PY=""
cmdline="scripts/train-experts.sh $*"
while [ $# -gt 0 ]; do
    case "$1" in
        --tiers) tiers="$2"; shift 2 ;;
        --tasks) tasks="$2"; shift 2 ;;
        --matrices) matrices="$2"; shift 2 ;;
        --steps) steps="$2"; shift 2 ;;
        --batch) batch="$2"; shift 2 ;;
        --samples) samples="$2"; shift 2 ;;
        --lr) lr="$2"; shift 2 ;;
        --kl) kl="$2"; shift 2 ;;
        --baseline) baseline="$2"; shift 2 ;;
        --models) models="$2"; shift 2 ;;
        --work) work="$2"; shift 2 ;;
        --python) PY="$2"; shift 2 ;;
        -h|--help) sed -n '2,/^set /{/^#/p}' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "train-experts: unknown option '$1' (see --help)" >&2; exit 2 ;;
    esac
done

if [ -z "$PY" ]; then
    PY=build/svf-venv/bin/python
    if ! [ -x "$PY" ] || ! "$PY" -c 'import torch, numpy' 2>/dev/null; then
        echo "train-experts: making build/svf-venv (torch, numpy)" >&2
        python3 -m venv build/svf-venv
        build/svf-venv/bin/pip install -q torch numpy
    fi
fi
"$PY" -c 'import torch, numpy' || { echo "train-experts: $PY cannot import torch and numpy" >&2; exit 1; }
# One thread per process, two processes at a time (the build machine has two cores).
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1

say() { echo "[$(date -u +%H:%M:%S)] $*"; }
start=$(date +%s)
mkdir -p "$work/logs" "$work/dense" "$work/experts" "$models/experts"

say "training: tiers [$tiers] x tasks [$tasks] x {reinforce, supervised}, matrices $matrices, $steps steps; logs in $work/logs/"
jobs_file="$work/jobs.txt"
: > "$jobs_file"
# The slow REINFORCE jobs first, so that the two lanes end close together.
for o in reinforce supervised; do for t in $(echo $tiers | tr ' ' '\n' | sort -r); do for k in $tasks; do
    echo "$t $k $o" >> "$jobs_file"
done; done; done
export PY models work matrices steps batch samples lr kl baseline
# Each job in its own session (as train-ladder.sh does), so the kernel's autogroup scheduling
# counts each as one job.
xargs -P 2 -L 1 setsid -w bash -c '
    "$PY" scripts/train-experts.py --models "$models" train --tier "$1" --task "$2" --objective "$3" \
        --matrices "$matrices" --steps "$steps" --batch "$batch" --samples "$samples" --lr "$lr" --kl "$kl" --baseline "$baseline" --eval-every 50 \
        --out "$work/$1-$2.$3.json" > "$work/logs/$1-$2.$3.log" 2>&1 \
        || { echo "train-experts: $1-$2 $3 failed, see $work/logs/$1-$2.$3.log" >&2; exit 255; }
    tail -n 1 "$work/logs/$1-$2.$3.log"' _ < "$jobs_file"
train_end=$(date +%s)

# Gearbox from here on: the launcher (re)builds target/gearbox.jar when the sources are newer.
scripts/gearbox --version > /dev/null
. scripts/jdk.sh
gearbox_find_jdk
java=("$JAVA_HOME/bin/java" --add-modules jdk.incubator.vector --enable-native-access=ALL-UNNAMED -cp target/gearbox.jar)
quiet() { grep -v '^WARNING: Using incubator modules' || true; }

say "export: experts through dev.gearbox.svf.ExpertExporter; dense W' copies for measuring"
dense=()
for t in $tiers; do
    scripts/gearbox svf decompose --ladder "$models/ladder.yaml" --tier "$t" --matrices "$matrices" -o "$work/tier-$t.svf.gguf" 2>/dev/null
    for k in $tasks; do
        "${java[@]}" dev.gearbox.svf.ExpertExporter import "$work/$t-$k.reinforce.json" "$models/tier-$t.gguf" "$models/experts/$t-$k.gguf" 2>&1 | quiet
        "${java[@]}" dev.gearbox.svf.ExpertExporter import "$work/$t-$k.supervised.json" "$models/tier-$t.gguf" "$work/experts/$t-$k-supervised.gguf" 2>&1 | quiet
        for o in reinforce supervised; do
            src="$models/experts/$t-$k.gguf"; [ "$o" = supervised ] && src="$work/experts/$t-$k-supervised.gguf"
            "${java[@]}" dev.gearbox.svf.ExpertExporter dense "$models/tier-$t.gguf" "$work/tier-$t.svf.gguf" "$src" "$work/dense/$t-$k-$o.gguf" 2>&1 | quiet
            dense+=("$work/dense/$t-$k-$o.gguf")
        done
    done
done

say "accuracy on $models/data/heldout.jsonl, measured by Gearbox (base tiers and dense W' copies)"
base=()
for t in $tiers; do base+=("$models/tier-$t.gguf"); done
"${java[@]}" dev.gearbox.ladder.train.TierEvaluator "$models/data/heldout.jsonl" "$work/gearbox-answers.jsonl" "${base[@]}" "${dense[@]}" 2>&1 | quiet

ladder_args=()
for t in $tiers; do ladder_args+=(--tier "$t=$(echo $tasks | tr ' ' ',')"); done
"$PY" scripts/train-experts.py --models "$models" ladder "${ladder_args[@]}"

end=$(date +%s)
wall="$(( (end - start) / 60 )) min $(( (end - start) % 60 )) s (training $(( (train_end - start) / 60 )) min $(( (train_end - start) % 60 )) s)"
zs=()
for t in $tiers; do for k in $tasks; do zs+=("$work/$t-$k.reinforce.json" "$work/$t-$k.supervised.json"); done; done
"$PY" scripts/train-experts.py --models "$models" report --answers "$work/gearbox-answers.jsonl" --z "${zs[@]}" \
    --command "$cmdline" --wall "$wall" \
    --machine "a $(getconf _NPROCESSORS_ONLN)-core $(uname -m) machine ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), niceness $(nice), shared with other jobs; two training processes at a time, one thread each)" \
    --hyper "matrices $matrices, z init 1, Adam lr $lr, $steps steps x $batch fresh prompts of the expert's task, gradient-norm clip 1.0, for both objectives; REINFORCE: $samples answers sampled per prompt at temperature 1 (at most 14 tokens), reward +1 exact / -1 otherwise, baseline $baseline (loo = mean reward of the prompt's other samples), KL weight $kl (KL(π_z‖π_base) per generated token); every 50 steps a checkpoint, the one with the best greedy accuracy on 144 generated validation prompts of the task (24 per level; never calibration or held-out prompts) is kept"
du -sh "$models/experts"
say "done in $wall"
