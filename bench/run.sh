#!/usr/bin/env bash
# Runs a training benchmark side by side with PyTorch eager on this machine
# and prints ms per step and the ratio (graft / PyTorch; below 1 is faster),
# at 1 and 2 threads. Needs a build (scripts/build.sh) and Debian's
# python3-torch (scripts/install-deps.sh --torch).
#
#   bench/run.sh [mlp|lenet|conv|dwconv|mnist|gpt|lstm]
#     mlp (default): bench/mlp.graft against bench/torch_mlp.py
#     lenet: examples/lenet.graft (convolutions) against bench/torch_lenet.py
#     conv: bench/conv.graft (a convolution over 64x64 images, large
#       activations) against bench/torch_conv.py
#     dwconv: bench/dwconv.graft (depthwise 3x3 and 7x7, a grouped 3x3,
#       MobileNet- and ConvNeXt-style) against bench/torch_dwconv.py
#     mnist: pytorch/examples' MNIST Net and Adadelta step
#       (examples/mnist.graft, batch 64) against bench/torch_mnist.py
#     gpt: nanoGPT's model.py as the parity suite ports it
#       (examples/nanogpt.graft: bias=False, tied head,
#       AdamW, clipping) at n_layer 4, n_head 4, n_embd 128, block 128,
#       batch 8, no dropout, against the same model and step in PyTorch
#       (bench/torch_gpt.py)
#     lstm: pytorch/examples' word_language_model (2-layer LSTM over 35
#       steps, Wikitext-2's vocabulary; examples/word_language_model.graft)
#       against bench/torch_word_lm.py
#
# Debian's OpenBLAS 0.3.21 does not recognise some of these CPUs and runs a
# slow generic kernel unless OPENBLAS_CORETYPE is set: PyTorch is measured
# with OPENBLAS_CORETYPE=SkylakeX, its fast setting, on CPUs with AVX-512,
# Haswell (AVX2) on the others (SkylakeX's kernels stop there with an
# illegal instruction); GRAFT_BENCH_CORETYPE overrides.
#
# The VM is noisy (a neighbour can take a core for a while): the two sides
# run alternately for GRAFT_BENCH_ROUNDS rounds (default 3) and each side's
# fastest round is reported, so both get the same chance at a quiet moment.
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
rounds=${GRAFT_BENCH_ROUNDS:-3}
dims=()
case ${1:-mlp} in
  mlp) model=$root/bench/mlp.graft torch=$root/bench/torch_mlp.py ;;
  lenet) model=$root/examples/lenet.graft torch=$root/bench/torch_lenet.py ;;
  conv) model=$root/bench/conv.graft torch=$root/bench/torch_conv.py ;;
  dwconv) model=$root/bench/dwconv.graft torch=$root/bench/torch_dwconv.py ;;
  mnist) model=$root/examples/mnist.graft torch=$root/bench/torch_mnist.py ;;
  gpt) model=$root/examples/nanogpt.graft torch=$root/bench/torch_gpt.py
       dims=(--dim B=8 --dim T=128 --dim C=128 --dim H=4 --dim L=4 --dim DROPOUT=1) ;;
  lstm) model=$root/examples/word_language_model.graft torch=$root/bench/torch_word_lm.py ;;
  *) echo "usage: bench/run.sh [mlp|lenet|conv|dwconv|mnist|gpt|lstm]" >&2; exit 2 ;;
esac
if grep -qw avx512f /proc/cpuinfo; then coretype=SkylakeX; else coretype=Haswell; fi
coretype=${GRAFT_BENCH_CORETYPE:-$coretype}
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); PyTorch with OPENBLAS_CORETYPE=$coretype"

ms() { grep -Eo 'train[_ ]step [0-9.]+ ms' | grep -Eo '[0-9.]+ ms' | awk '{print $1}'; }

less() { awk -v a="$1" -v b="$2" 'BEGIN{exit !(a < b)}'; }

printf '%-8s %-14s %-14s %-14s %s\n' threads "graft (ms)" "pytorch (ms)" "graft/pytorch" "pytorch config"
for threads in 1 2; do
  # PyTorch: "intra-op threads:BLAS threads" configurations using $threads.
  if [[ $threads -eq 1 ]]; then configs="1:1"; else configs="$threads:$threads 1:$threads $threads:1"; fi
  g= p= best=
  for ((r = 0; r < rounds; ++r)); do
    out=$("$build/bin/graft" bench "$model" "${dims[@]}" --steps "$steps" --threads "$threads")
    compile=$(grep -Eo 'compile [0-9.]+ s' <<< "$out")
    t=$(ms <<< "$out")
    if [[ -z $g ]] || less "$t" "$g"; then g=$t; fi
    for c in $configs; do
      t=$(OPENBLAS_CORETYPE=$coretype OMP_NUM_THREADS=${c%:*} \
          OPENBLAS_NUM_THREADS=${c#*:} \
          /usr/bin/python3 "$torch" "${c%:*}" "$steps" | ms)
      if [[ -z $p ]] || less "$t" "$p"; then p=$t best=$c; fi
    done
  done
  printf '%-8s %-14s %-14s %-14s %s\n' "$threads" "$g" "$p" \
    "$(awk -v g="$g" -v p="$p" 'BEGIN{printf "%.2fx", g/p}')" "torch:blas threads $best"
done
echo "graft: $compile (the model's, last run)"
