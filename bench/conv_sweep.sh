#!/usr/bin/env bash
# Sweeps a convolution model over batch sizes and image sizes, side by side
# with PyTorch eager on this machine, to show that step time grows smoothly:
# no size falls off a fast path. bench/conv_sweep.graft (two 3x3
# convolutions, pooling, a linear head) at batch 1..256 over 28x28 images,
# then at image sizes 28..128 at batch 8, against bench/torch_conv_sweep.py.
#
#   bench/conv_sweep.sh [THREADS]      (default 1)
#
# Per size: ms per step on both sides, the ratio, and Graft's time per
# pixel (ms / (B * S * S), in ns) with its jump from the previous size: a
# cost that grows with the work has jumps near 1x; the issue's bound is
# 1.3x. The last line names the largest jump. PyTorch runs with
# OPENBLAS_CORETYPE as in bench/run.sh. GRAFT_BENCH_STEPS (default 5) sets
# the timed steps of each point.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${GRAFT_BUILD_DIR:-$root/build}
threads=${1:-1}
steps=${GRAFT_BENCH_STEPS:-5}
if grep -qw avx512f /proc/cpuinfo; then coretype=SkylakeX; else coretype=Haswell; fi
coretype=${GRAFT_BENCH_CORETYPE:-$coretype}
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); $threads thread(s); PyTorch with OPENBLAS_CORETYPE=$coretype"

ms() { grep -Eo 'train[_ ]step [0-9.]+ ms' | grep -Eo '[0-9.]+' | head -1; }

printf '%-6s %-6s %-12s %-12s %-8s %-14s %s\n' B S "graft ms" "pytorch ms" ratio "graft ns/px" jump
worst=0 worstAt=
sweep() { # pairs "B S"
  local prev=
  while read -r b s; do
    g=$("$build/bin/graft" bench "$root/bench/conv_sweep.graft" --dim "B=$b" \
        --dim "S=$s" --steps "$steps" --threads "$threads" | ms)
    p=$(OPENBLAS_CORETYPE=$coretype OMP_NUM_THREADS=$threads \
        OPENBLAS_NUM_THREADS=$threads /usr/bin/python3 \
        "$root/bench/torch_conv_sweep.py" "$threads" "$steps" "$b" "$s" | ms)
    px=$(awk -v g="$g" -v b="$b" -v s="$s" 'BEGIN{printf "%.2f", g * 1e6 / (b * s * s)}')
    jump=-
    if [[ -n $prev ]]; then
      jump=$(awk -v a="$px" -v b="$prev" 'BEGIN{printf "%.2fx", a / b}')
      if awk -v j="${jump%x}" -v w="$worst" 'BEGIN{exit !(j > w)}'; then
        worst=${jump%x} worstAt="B=$b S=$s"
      fi
    fi
    prev=$px
    printf '%-6s %-6s %-12s %-12s %-8s %-14s %s\n' "$b" "$s" "$g" "$p" \
      "$(awk -v g="$g" -v p="$p" 'BEGIN{printf "%.2fx", g/p}')" "$px" "$jump"
  done
}
sweep < <(for b in 1 2 3 4 6 8 12 16 24 32 48 50 51 64 96 128 192 256; do echo "$b 28"; done)
sweep < <(for s in 28 32 40 48 56 64 80 96 112 128; do echo "8 $s"; done)
echo "largest jump in graft's time per pixel between neighbouring sizes: ${worst}x (at $worstAt)"
