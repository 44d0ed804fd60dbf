#!/usr/bin/env bash
# On a machine with an NVIDIA GPU (H100/H200) and the CUDA toolkit: builds
# Graft, runs the GPU tests (test/GPU: PTX and ptxas, and the CUDA libraries
# of the example models against the CPU libraries), times bench/mlp.graft's
# train step on the GPU next to PyTorch eager and torch.compile, and prints a
# summary. A few minutes from a fresh clone. See docs/GPU.md.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${GRAFT_BUILD_DIR:-$root/build}
steps=${GRAFT_BENCH_STEPS:-200}
export GRAFT_JOBS=${GRAFT_JOBS:-$(nproc)}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
summary=()

echo "== device"
nvidia-smi -L || echo "nvidia-smi: no GPU listed"

echo "== build"
if "$root/scripts/build.sh" > "$work/build.log" 2>&1; then
  summary+=("build: ok")
else
  tail -30 "$work/build.log"
  echo "SUMMARY: the build failed"; exit 1
fi

echo "== GPU tests (lit test/GPU)"
/usr/lib/llvm-22/bin/lit -sv "$build/test/GPU" | tee "$work/lit.log"
summary+=("GPU tests: $(grep -E '^ *(Passed|Failed|Unsupported|Unresolved)' "$work/lit.log" | tr -s ' ' | tr '\n' ' ')")
if grep -q "UNSUPPORTED: GRAFT :: GPU/cpu-vs-cuda.test" "$work/lit.log"; then
  summary+=("WARNING: cpu-vs-cuda.test did not run (no cuda-device feature: nvidia-smi -L lists no GPU)")
fi
# The comparison's numbers, for the record.
for m in bench/mlp.graft:bench_mlp examples/digits_mlp.graft:digits_mlp examples/lenet.graft:lenet; do
  /usr/bin/python3 "$root/test/GPU/Inputs/cpu_vs_cuda.py" "$root/${m%%:*}" "${m##*:}" \
    "$work/cmp-${m##*:}" "$build/bin/graft" > "$work/cmp.log" 2>&1
  summary+=("${m%%:*}: $(grep -E '^(copied|resident):' "$work/cmp.log" | tr '\n' ' ')")
  grep -E 'max abs diff|loss' "$work/cmp.log" | sed "s|^|  ${m##*:}: |"
done

echo "== benchmark: bench/mlp.graft train step"
"$build/bin/graft" compile --target=cuda "$root/bench/mlp.graft" -o "$work/bench" > /dev/null &&
cc -std=c11 -O2 -I"$work/bench" "$root/bench/gpu_bench.c" "$work/bench/libbench_mlp.a" -lm -ldl -lpthread -o "$work/gpu_bench" &&
g=$("$work/gpu_bench" "$steps") || g="graft cuda: failed: $("$work/gpu_bench" 2 2>&1 | tail -1)"
echo "$g"
p=$(/usr/bin/python3 "$root/bench/torch_mlp_gpu.py" "$steps" 2>&1 | grep -E 'pytorch|torch_mlp_gpu')
echo "$p"
summary+=("$g")
while IFS= read -r line; do summary+=("$line"); done <<< "$p"

echo
echo "SUMMARY"
printf '  %s\n' "${summary[@]}"
