#!/usr/bin/env bash
# GPU check of the CUDA target (docs/GPU.md), in two halves, because the GPU
# machine need not have LLVM/MLIR and the build machine need not have a GPU:
#
#   gpu-check.sh prepare DIR   on the build machine (no GPU needed): builds
#       Graft, compiles each example model for the CPU and for CUDA (cubins
#       when a CUDA toolkit is found), links the step harness against both
#       (test/GPU/Inputs/steps.c), runs the CPU one and keeps its tensor
#       dumps, links the benchmark (bench/gpu_bench.c), and copies what the
#       run needs into DIR (a few MB; self-contained).
#   DIR/run.sh                 on the GPU machine: runs the CUDA libraries
#       (state copied per step, then resident) and compares every tensor with
#       the CPU library's (rtol 1e-3, atol 1e-4), times the benchmark models'
#       train steps next to PyTorch eager and torch.compile on the same GPU,
#       profiles one bench_mlp step's kernels with ncu when it is there, and
#       prints a summary. Needs only the driver, a C library and python3 (with
#       torch for the baseline).
#   gpu-check.sh               both, on a machine that has everything.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${GRAFT_BUILD_DIR:-$root/build}

# model file : C name. Each is compared and its train step timed; PyTorch's
# baseline is bench/mlp.graft's (bench/torch_mlp_gpu.py).
models=(
  bench/mlp.graft:bench_mlp
  examples/mlp.graft:mlp
  examples/digits_mlp.graft:digits_mlp
  examples/lenet.graft:lenet
  test/Library/Inputs/golden_bn_cnn.graft:golden_bn_cnn
  test/Library/Inputs/golden_gpt.graft:golden_gpt
)

prepare() {
  local dir=$1
  rm -rf "$dir" && mkdir -p "$dir" || return 1
  local log=$dir/prepare.log
  echo "== build" >&2
  if ! "$root/scripts/build.sh" > "$log" 2>&1; then
    tail -30 "$log" >&2
    echo "gpu-check: the build failed" >&2
    return 1
  fi
  local graft=$build/bin/graft omp=/usr/lib/llvm-22/lib
  local work
  work=$(mktemp -d) || return 1
  for m in "${models[@]}"; do
    local file=${m%%:*} name=${m##*:}
    echo "== $name: compile for cpu and cuda" >&2
    for target in cpu cuda; do
      local out=$work/$name-$target extra=(-lm -L"$omp" -lomp -Wl,-rpath,"$omp")
      [[ $target == cuda ]] && extra=(-lm -ldl -lpthread -DGRAFT_CUDA)
      "$graft" compile --target=$target "$root/$file" -o "$out" >> "$log" 2>&1 &&
        cc -std=c11 -O1 -Wall -Werror -I"$out" -DMODEL_HEADER="\"$name.h\"" \
          -DMODEL=graft_model_$name "$root/test/GPU/Inputs/steps.c" \
          "$out/lib$name.a" "${extra[@]}" -o "$dir/steps-$name-$target" >> "$log" 2>&1 ||
        { tail -20 "$log" >&2; echo "gpu-check: $name ($target) failed" >&2; return 1; }
    done
    # The reference: the CPU library's tensors after the same steps.
    "$dir/steps-$name-cpu" "$dir/$name.cpu.bin" > "$dir/$name.cpu.txt" ||
      { echo "gpu-check: the CPU run of $name failed" >&2; return 1; }
    rm -f "$dir/steps-$name-cpu"
    cc -std=c11 -O2 -I"$work/$name-cuda" -DMODEL_HEADER="\"$name.h\"" \
      -DMODEL=graft_model_$name "$root/bench/gpu_bench.c" \
      "$work/$name-cuda/lib$name.a" -lm -ldl -lpthread -o "$dir/bench-$name" >> "$log" 2>&1 ||
      { tail -20 "$log" >&2; return 1; }
  done
  rm -rf "$work"
  cp "$root/test/GPU/Inputs/compare.py" "$root/bench/torch_mlp_gpu.py" "$dir/"
  printf '%s\n' "${models[@]}" > "$dir/models"
  sed -n '/^# ---- run.sh/,$p' "${BASH_SOURCE[0]}" | tail -n +2 > "$dir/run.sh"
  chmod +x "$dir/run.sh"
  echo "gpu-check: prepared $dir ($(du -sh "$dir" | cut -f1)); run $dir/run.sh on the GPU machine" >&2
}

if [[ ${1:-} == prepare ]]; then
  prepare "${2:?usage: gpu-check.sh prepare DIR}"
  exit
fi
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
prepare "$dir" && "$dir/run.sh"
exit

# ---- run.sh (copied into the prepared directory; runs on the GPU machine)
#!/usr/bin/env bash
# Written by scripts/gpu-check.sh prepare: runs the CUDA libraries prepared
# next to this file, compares them with the CPU libraries' dumps, benchmarks,
# prints a summary. ncu's and compute-sanitizer's logs go to $OUT when it is
# set, else to this directory.
set -uo pipefail
dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
logs=${OUT:-$dir}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
steps=${GRAFT_BENCH_STEPS:-200}
summary=()
py=python3

echo "== device"
nvidia-smi -L || echo "nvidia-smi: no GPU listed"
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader 2>/dev/null

echo "== CUDA libraries against the CPU libraries"
while IFS= read -r m; do
  name=${m##*:}
  for mode in copied resident; do
    arg=(); [[ $mode == resident ]] && arg=(resident)
    if GRAFT_CUDA_VERBOSE=1 timeout 120 "$dir/steps-$name-cuda" "$work/$name.$mode.bin" "${arg[@]}" > "$work/$name.$mode.txt" 2>&1; then
      cmp=$($py "$dir/compare.py" "$dir/$name.cpu.bin" "$work/$name.$mode.bin" 1e-3 1e-4 2>&1)
      verdict=$(tail -1 <<< "$cmp")
      echo "$name $mode: $verdict"; sed 's/^/    /' <<< "$cmp"
      paste -d'|' "$dir/$name.cpu.txt" "$work/$name.$mode.txt" | sed 's/^/    cpu|cuda: /'
    else
      verdict="FAILED: $(tail -2 "$work/$name.$mode.txt" | tr '\n' ' ')"
      echo "$name $mode: $verdict"
    fi
    summary+=("$name $mode: $verdict")
  done
done < "$dir/models"

echo "== benchmarks"
for b in "$dir"/bench-*; do
  r=$(timeout 120 "$b" "$steps" 2>&1) || r="$(basename "$b"): failed: $r"
  echo "$r"; summary+=("$r")
  # Without CUDA graphs: every call launches its kernels.
  r=$(GRAFT_CUDA_GRAPHS=0 timeout 120 "$b" "$steps" 2>&1) || r="$(basename "$b"): failed: $r"
  echo "$r (GRAFT_CUDA_GRAPHS=0)"; summary+=("$r (GRAFT_CUDA_GRAPHS=0)")
done
p=$(timeout 300 $py "$dir/torch_mlp_gpu.py" "$steps" 2>&1 | grep -E 'pytorch|torch_mlp_gpu|Error')
echo "$p"
while IFS= read -r line; do summary+=("$line"); done <<< "$p"

if command -v ncu > /dev/null && [[ -x $dir/bench-bench_mlp ]]; then
  echo "== kernels of one bench_mlp train step (ncu)"
  timeout 180 ncu --metrics gpu__time_duration.sum --csv "$dir/bench-bench_mlp" 1 0 \
    > "$logs/ncu.csv" 2> "$logs/ncu.err" || tail -5 "$logs/ncu.err"
  $py - "$logs/ncu.csv" <<'EOF'
import csv, sys
rows = [r for r in csv.DictReader(l for l in open(sys.argv[1]) if l.startswith('"'))
        if r.get("Metric Name") == "gpu__time_duration.sum"]
scale = {"ns": 1e-3, "nsecond": 1e-3, "us": 1.0, "usecond": 1.0, "ms": 1e3, "msecond": 1e3}
for r in rows:
    r["us"] = float(r["Metric Value"].replace(",", "")) * scale.get(r["Metric Unit"], 1.0)
print("%d kernel launches, %.1f us of kernel time per step (ncu: locked clocks)"
      % (len(rows), sum(r["us"] for r in rows)))
for r in sorted(rows, key=lambda r: -r["us"])[:15]:
    print("  %8.1f us  launch %s  grid %s block %s" % (r["us"], r["ID"], r["Grid Size"], r["Block Size"]))
EOF
  summary+=("ncu: $(grep -c '"gpu__time_duration.sum"' "$logs/ncu.csv" 2>/dev/null) kernel launches per bench_mlp train step")
fi

if command -v compute-sanitizer > /dev/null; then
  # memcheck: out-of-bounds and misaligned accesses; racecheck: shared-memory
  # races in the tiled products and block reductions (barrier placement).
  for tool in memcheck racecheck; do
    echo "== compute-sanitizer $tool: digits_mlp, state resident"
    timeout 180 compute-sanitizer --tool $tool --error-exitcode 3 \
      "$dir/steps-digits_mlp-cuda" "$work/sanitizer.bin" resident > "$logs/$tool.txt" 2>&1
    rc=$?
    tail -2 "$logs/$tool.txt"
    summary+=("compute-sanitizer $tool (digits_mlp): $([[ $rc == 0 ]] && echo clean || echo "exit $rc: $(grep -m1 -iE 'invalid|hazard|error' "$logs/$tool.txt")")")
  done
fi

echo
echo "SUMMARY"
printf '  %s\n' "${summary[@]}"
