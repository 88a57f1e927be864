#!/usr/bin/env bash
# Builds the CUDA kernels (native/, CMake project in cmake/) into target/native/libgearbox_cuda.so.
# Where nvcc is missing it prints one notice and exits 0: the Java build and the CPU engine do not
# need the library, and the CUDA backend reports "no library" at run time.
# Env: GEARBOX_CUDA_ARCHS (default "80;90"), GEARBOX_NATIVE_JOBS (default: all cores),
# GEARBOX_NATIVE_TESTS=ON also builds target/native/build/kernel_check (needs a GPU to run).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

nvcc_bin="$(command -v nvcc || true)"
if [ -z "$nvcc_bin" ] && [ -x /usr/local/cuda/bin/nvcc ]; then
    nvcc_bin=/usr/local/cuda/bin/nvcc
fi
if [ -z "$nvcc_bin" ]; then
    echo "build-native: nvcc not found (PATH, /usr/local/cuda/bin); skipping the CUDA library"
    exit 0
fi
if ! command -v cmake >/dev/null 2>&1; then
    echo "build-native: nvcc found but cmake is missing; install cmake to build the CUDA library" >&2
    exit 1
fi

out="$root/target/native"
build="$out/build"
mkdir -p "$out"
generator=()
if command -v ninja >/dev/null 2>&1; then generator=(-G Ninja); fi
# A build folder configured for another nvcc starts over.
if [ -f "$build/CMakeCache.txt" ] && ! grep -q "CMAKE_CUDA_COMPILER:.*=$nvcc_bin\$" "$build/CMakeCache.txt"; then
    rm -rf "$build"
fi
cmake -S "$root/cmake" -B "$build" "${generator[@]}" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CUDA_COMPILER="$nvcc_bin" \
    -DCMAKE_CUDA_ARCHITECTURES="${GEARBOX_CUDA_ARCHS:-80;90}" \
    -DGEARBOX_NATIVE_TESTS="${GEARBOX_NATIVE_TESTS:-OFF}" \
    -DCMAKE_LIBRARY_OUTPUT_DIRECTORY="$out" >"$out/cmake-configure.log" 2>&1 || { cat "$out/cmake-configure.log" >&2; exit 1; }
cmake --build "$build" --parallel "${GEARBOX_NATIVE_JOBS:-$(nproc)}"
echo "build-native: $out/libgearbox_cuda.so"
