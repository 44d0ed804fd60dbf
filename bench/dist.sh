#!/usr/bin/env bash
# Data-parallel scaling on this machine, Graft beside PyTorch: pytorch/
# examples' MNIST Net and Adadelta step (examples/mnist.graft), each rank a
# process of one thread with its own batch of 64 (random data), 1 rank
# alone and 2 ranks. Graft: graft train, alone (the fused step) and under
# mpirun (Open MPI); PyTorch: eager alone and DistributedDataParallel on
# gloo (bench/torch_ddp.py). Prints samples/s, the 2-rank scaling
# efficiency (2-rank throughput over twice 1 rank's), Graft over PyTorch
# in time per sample, and Graft's time in collectives.
#
#   bench/dist.sh            needs a build with MPI (scripts/install-deps.sh
#                            installs libopenmpi-dev) and python3-torch,
#                            python3-numpy (--torch)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${GRAFT_BUILD_DIR:-$root/build}
steps=${GRAFT_BENCH_STEPS:-40}
rounds=${GRAFT_BENCH_ROUNDS:-2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
if grep -qw avx512f /proc/cpuinfo; then coretype=SkylakeX; else coretype=Haswell; fi
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores; $(mpirun --version | head -1)"
export OPENBLAS_CORETYPE=${GRAFT_BENCH_CORETYPE:-$coretype} OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1

# Random samples for 2 ranks' steps, as .npy (graft train --input).
/usr/bin/python3 - "$work" "$steps" <<'PY'
import sys, numpy as np
work, steps = sys.argv[1], int(sys.argv[2])
n = 2 * 64 * (steps + 5)
rng = np.random.default_rng(0)
np.save(work + "/data.npy", rng.standard_normal((n, 1, 28, 28), dtype=np.float32))
np.save(work + "/target.npy", rng.integers(0, 10, n, dtype=np.int64))
PY

graft_run() { # RANKS: samples/s and the collectives line
  local ranks=$1 cmd=("$build/bin/graft" train "$root/examples/mnist.graft"
    --input data="$work/data.npy" --input target="$work/target.npy"
    --steps "$steps" --no-shuffle -o "$work/ck.safetensors")
  if [[ $ranks -gt 1 ]]; then cmd=(mpirun --oversubscribe --bind-to none -np "$ranks" "${cmd[@]}"); fi
  GRAFT_NUM_THREADS=1 "${cmd[@]}" 2>&1
}
best() { awk -v a="$1" -v b="$2" 'BEGIN{print (b == "" || a > b) ? a : b}'; }

declare -A g p
comm=
for ((r = 0; r < rounds; ++r)); do
  for ranks in 1 2; do
    out=$(graft_run $ranks)
    t=$(grep -Eo '\(([0-9.]+) samples/s\); step' <<< "$out" | grep -Eo '[0-9.]+')
    g[$ranks]=$(best "$t" "${g[$ranks]:-}")
    [[ $ranks -eq 2 ]] && comm=$(grep '^collectives' <<< "$out" || true)
    t=$(/usr/bin/python3 "$root/bench/torch_ddp.py" "$ranks" "$steps" | grep -Eo '[0-9.]+ samples/s' | grep -Eo '[0-9.]+')
    p[$ranks]=$(best "$t" "${p[$ranks]:-}")
  done
done
printf '%-6s %-18s %-18s %s\n' ranks "graft samples/s" "pytorch samples/s" "graft/pytorch (time a sample)"
for ranks in 1 2; do
  printf '%-6s %-18s %-18s %s\n' "$ranks" "${g[$ranks]}" "${p[$ranks]}" \
    "$(awk -v g="${g[$ranks]}" -v p="${p[$ranks]}" 'BEGIN{printf "%.2fx", p/g}')"
done
awk -v g1="${g[1]}" -v g2="${g[2]}" -v p1="${p[1]}" -v p2="${p[2]}" \
  'BEGIN{printf "2-rank scaling efficiency: graft %.0f%%, pytorch DDP %.0f%%\n", 100*g2/(2*g1), 100*p2/(2*p1)}'
echo "graft, 2 ranks, last round: $comm"

# The sum alone: graft's rank-order reduce-scatter/all-gather against Open
# MPI's own MPI_Allreduce and MPI_Iallreduce (bench/allreduce.c).
mpicc -O2 -I"$root/lib/Runtime/c" "$root/bench/allreduce.c" \
  "$root/lib/Runtime/c/graft_dist.c" -o "$work/allreduce"
for ranks in 2 4; do
  mpirun --oversubscribe --bind-to none -np $ranks "$work/allreduce" 1199882 20
done
