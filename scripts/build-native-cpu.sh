#!/usr/bin/env bash
# Builds the optional native CPU decode kernels (native/cpu) into target/native/libgearbox_cpu.so.
# Without gcc it prints a notice and exits 0: Gearbox then uses its Vector API kernels everywhere.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
srcs=("$root"/native/cpu/*.c)
out="$root/target/native/libgearbox_cpu.so"
cc="${CC:-gcc}"
if ! command -v "$cc" >/dev/null 2>&1; then
    echo "gearbox: $cc not found: skipping the native CPU kernels (the Vector API kernels run instead)" >&2
    exit 0
fi
if [ -f "$out" ] && [ -z "$(find "$root/native/cpu" -newer "$out" -print -quit)" ]; then
    exit 0
fi
mkdir -p "$(dirname "$out")"
# The kernels need AVX-512 (F, BW, VL, VNNI) and F16C; the library checks the running CPU itself.
"$cc" -O3 -fPIC -shared -std=c11 -Wall -Wextra -Werror \
    -mavx2 -mfma -mf16c -mavx512f -mavx512bw -mavx512vl -mavx512vnni \
    -o "$out.tmp" "${srcs[@]}"
mv "$out.tmp" "$out"
