#!/usr/bin/env bash
# Load benchmark on loopback: starts `gearbox serve` in-process on a free 127.0.0.1 port (or uses
# --url http://127.0.0.1:PORT), runs many concurrent streaming chat clients on the held-out mixed
# workload (models/data/heldout.jsonl), bounded by --requests and --max-seconds, and prints
# requests/s, tokens/s, p50/p99 latency and time to first token. Exits 1 on any failed or
# truncated answer (a stream without a finish_reason and data: [DONE]).
# Defaults: --clients 16 --requests 200 --max-seconds 120. See `scripts/gearbox load-bench --help`.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec "$root/scripts/gearbox" load-bench "$@"
