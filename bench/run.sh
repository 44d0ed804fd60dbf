#!/usr/bin/env bash
# Runs the MLP benchmark side by side with PyTorch eager on this machine and
# prints ms per step and the ratio (graft / PyTorch; below 1 is faster), at 1
# and 2 threads. Needs a build (scripts/build.sh) and Debian's python3-torch
# (scripts/install-deps.sh --torch).
#
# Debian's OpenBLAS 0.3.21 does not recognise these CPUs and runs a slow
# generic kernel unless OPENBLAS_CORETYPE is set: PyTorch is measured with
# OPENBLAS_CORETYPE=SkylakeX, its fast setting (override with
# GRAFT_BENCH_CORETYPE).
#
# At 2 threads PyTorch gets its best configuration of the three that use
# both cores: its intra-op threads and OpenBLAS's threads are separate pools,
# and on this 2-core VM the default (2 + 2) oversubscribes badly (about 3x
# slower than 1 thread), while 1 intra-op thread with 2 BLAS threads is its
# fastest. The configuration used is printed.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${GRAFT_BUILD_DIR:-$root/build}
steps=${GRAFT_BENCH_STEPS:-30}
coretype=${GRAFT_BENCH_CORETYPE:-SkylakeX}

ms() { grep -Eo 'train[_ ]step [0-9.]+ ms' | grep -Eo '[0-9.]+ ms' | awk '{print $1}'; }

printf '%-8s %-14s %-14s %-14s %s\n' threads "graft (ms)" "pytorch (ms)" "graft/pytorch" "pytorch config"
for threads in 1 2; do
  g=$("$build/bin/graft" bench "$root/bench/mlp.graft" --steps "$steps" \
      --threads "$threads" | ms)
  # PyTorch: "intra-op threads:BLAS threads" configurations using $threads.
  if [[ $threads -eq 1 ]]; then configs="1:1"; else configs="$threads:$threads 1:$threads $threads:1"; fi
  p= best=
  for c in $configs; do
    t=$(OPENBLAS_CORETYPE=$coretype OMP_NUM_THREADS=${c%:*} \
        OPENBLAS_NUM_THREADS=${c#*:} \
        /usr/bin/python3 "$root/bench/torch_mlp.py" "${c%:*}" "$steps" | ms)
    if [[ -z $p ]] || awk -v t="$t" -v p="$p" 'BEGIN{exit !(t < p)}'; then
      p=$t best=$c
    fi
  done
  printf '%-8s %-14s %-14s %-14s %s\n' "$threads" "$g" "$p" \
    "$(awk -v g="$g" -v p="$p" 'BEGIN{printf "%.2fx", g/p}')" "torch:blas threads $best"
done
