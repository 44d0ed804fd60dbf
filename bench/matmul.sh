#!/usr/bin/env bash
# The product kernel benchmark: compiles bench/matmul.graft (a 512x512x512
# f32 product) with graft compile, times it through the C API on one core
# (bench/matmul.c, best of 5 rounds, OMP_NUM_THREADS=1) and prints it
# beside this core's measured FMA peak (bench/fma_peak.c). Needs a build
# (scripts/build.sh).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${GRAFT_BUILD_DIR:-$root/build}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

"$build/bin/graft" compile "$root/bench/matmul.graft" -o "$out" >/dev/null
cc -O2 -I"$out" "$root/bench/matmul.c" "$out/libmatmul.a" -lm -pthread \
  -o "$out/matmul"
cc -O2 -march=native "$root/bench/fma_peak.c" -o "$out/fma_peak"
peak=$("$out/fma_peak")
mm=$(OMP_NUM_THREADS=1 "$out/matmul")
echo "$peak"
echo "$mm"
awk -v p="$(grep -Eo '[0-9.]+ GFLOP/s' <<<"$peak" | cut -d' ' -f1)" \
    -v m="$(grep -Eo '[0-9.]+ GFLOP/s' <<<"$mm" | cut -d' ' -f1)" \
    'BEGIN { printf "the product kernel: %.0f%% of the measured peak\n", 100 * m / p }'
