#!/usr/bin/env bash
# The product kernel benchmark: compiles bench/matmul.graft (an f32 product
# a[M, K] @ w[K, N]) with graft compile at 512^3 and at skinny shapes (M or
# N <= 32: inference at small batch, narrow layers), times each through the
# C API on one core (bench/matmul.c, the best of 5 rounds,
# OMP_NUM_THREADS=1) and prints it beside this core's measured FMA peak
# (bench/fma_peak.c). Needs a build (scripts/build.sh).
#
#   bench/matmul.sh                 512^3 and the skinny shapes
#   bench/matmul.sh M,K,N ...       the shapes given
#   bench/matmul.sh --sweep         256 x 256 x N for N = 4, 8, ..., 160:
#                                   every register tile width and remainder
#   GRAFT_MATMUL_FLAGS='--target-cpu=haswell' bench/matmul.sh   (other targets)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${GRAFT_BUILD_DIR:-$root/build}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

shapes=("$@")
if [ "${1:-}" = --sweep ]; then
  shapes=()
  for n in $(seq 4 4 160); do shapes+=("256,256,$n"); done
elif [ ${#shapes[@]} -eq 0 ]; then
  shapes=(512,512,512 32,512,512 16,512,512 8,1024,1024 512,512,32 \
          512,512,16 4096,128,32 1024,64,1024)
fi

cc -O2 -march=native "$root/bench/fma_peak.c" -o "$out/fma_peak"
peak=$("$out/fma_peak")
echo "$peak"
p=$(grep -Eo '[0-9.]+ GFLOP/s' <<<"$peak" | cut -d' ' -f1)
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
echo "cpu: $cpu ($(nproc) cores)"
for shape in "${shapes[@]}"; do
  IFS=, read -r m k n <<<"$shape"
  dir="$out/$m-$k-$n"
  # shellcheck disable=SC2086  # GRAFT_MATMUL_FLAGS holds several flags
  "$build/bin/graft" compile "$root/bench/matmul.graft" -o "$dir" \
    --dim M="$m" --dim K="$k" --dim N="$n" ${GRAFT_MATMUL_FLAGS:-} >/dev/null
  cc -O2 -I"$dir" "$root/bench/matmul.c" "$dir/libmatmul.a" -lm -pthread \
    -o "$dir/matmul"
  mm=$(OMP_NUM_THREADS=1 "$dir/matmul")
  g=$(grep -Eo '[0-9.]+ GFLOP/s' <<<"$mm" | cut -d' ' -f1)
  awk -v mm="$mm" -v p="$p" -v g="$g" \
    'BEGIN { printf "%s, %.0f%% of the measured peak\n", mm, 100 * g / p }'
done
