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
#       the CPU library's (rtol 1e-3, atol 1e-4), and the TF32 libraries
#       (--allow-tf32) with the f32 ones (1e-2 of each tensor's largest
#       element), times the models' train steps and bench/wide_mlp's in f32
#       and TF32 next to PyTorch eager and torch.compile on the same GPU,
#       profiles the kernels of a bench_mlp step and of wide_mlp steps with
#       ncu when it is there, runs compute-sanitizer, and prints a summary.
#       Needs only the driver, a C library and python3 (with torch for the
#       baseline).
#   gpu-check.sh               both, on a machine that has everything.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${GRAFT_BUILD_DIR:-$root/build}

# model file : C name [: graft compile options]. Each is compared and its
# train step timed; PyTorch's baseline is bench/mlp.graft's
# (bench/torch_mlp_gpu.py).
models=(
  bench/mlp.graft:bench_mlp
  examples/mlp.graft:mlp
  examples/digits_mlp.graft:digits_mlp
  examples/lenet.graft:lenet
  test/Library/Inputs/golden_bn_cnn.graft:golden_bn_cnn
  test/Library/Inputs/golden_gpt.graft:golden_gpt
  "bench/wide_mlp.graft:wide_mlp:--dim B=600 --dim W=520"
  "examples/nanogpt.graft:nanogpt:--dim B=8 --dim T=128 --dim C=128 --dim H=4 --dim L=4 --dim DROPOUT=1"
)
# TF32 (--allow-tf32) against f32, both CUDA, on the GPU, as above:
# bench/wide_mlp at sizes whose big products take the 32x32, 64x64 and
# 128x128 tensor-core tiles, with partial tiles at the edges, and the GPT
# benchmark's model (bench/run.sh gpt).
tf32=(
  "bench/wide_mlp.graft:wide_mlp:--dim B=600 --dim W=520"
  "bench/wide_mlp.graft:wide_mlp:--dim B=1100 --dim W=1000"
  "bench/wide_mlp.graft:wide_mlp:--dim B=1600 --dim W=1400"
  "examples/nanogpt.graft:nanogpt:--dim B=8 --dim T=128 --dim C=128 --dim H=4 --dim L=4 --dim DROPOUT=1"
)
# bench/wide_mlp's train step in f32 and TF32 next to PyTorch: B = W.
wide=(1024 2048 4096)

# entry ENTRY: sets file, name and opts from "file:name[:options]".
entry() {
  file=${1%%:*}
  local rest=${1#*:}
  name=${rest%%:*} opts=
  [[ $rest == *:* ]] && opts=${rest#*:}
  return 0
}

# A file name for a model and its options: name, then the option values.
tag() {
  local t=$1 o
  for o in ${2-}; do [[ $o == --dim ]] || t+=-${o//=/}; done
  echo "$t"
}

# compile NAME FILE OUT OPTIONS...: the CUDA (or, with --target=cpu, CPU)
# library of FILE in OUT, and the step harness against it as $dir/steps-TAG.
build_steps() {
  local file=$1 name=$2 out=$3 exe=$4 target=$5
  shift 5
  local extra=(-lm -pthread)
  [[ $target == cuda ]] && extra=(-lm -ldl -lpthread -DGRAFT_CUDA)
  "$graft" compile --target=$target "$@" "$root/$file" -o "$out" >> "$log" 2>&1 &&
    cc -std=c11 -O1 -Wall -Werror -I"$out" -DMODEL_HEADER="\"$name.h\"" \
      -DMODEL=graft_model_$name "$root/test/GPU/Inputs/steps.c" \
      "$out/lib$name.a" "${extra[@]}" -o "$exe" >> "$log" 2>&1 ||
    { tail -20 "$log" >&2; echo "gpu-check: $name ($target $*) failed" >&2; return 1; }
}

# build_bench NAME LIBDIR EXE: bench/gpu_bench.c against a CUDA library.
build_bench() {
  cc -std=c11 -O2 -I"$2" -DMODEL_HEADER="\"$1.h\"" -DMODEL=graft_model_$1 \
    "$root/bench/gpu_bench.c" "$2/lib$1.a" -lm -ldl -lpthread -o "$3" >> "$log" 2>&1 ||
    { tail -20 "$log" >&2; return 1; }
}

prepare() {
  local dir=$1
  rm -rf "$dir" && mkdir -p "$dir" || return 1
  log=$dir/prepare.log
  echo "== build" >&2
  if ! "$root/scripts/build.sh" > "$log" 2>&1; then
    tail -30 "$log" >&2
    echo "gpu-check: the build failed" >&2
    return 1
  fi
  graft=$build/bin/graft
  local work m
  work=$(mktemp -d) || return 1
  : > "$dir/models"
  local file name opts t
  for m in "${models[@]}"; do
    entry "$m"
    t=$(tag "$name" "$opts")
    echo "== $t: compile for cpu and cuda" >&2
    # shellcheck disable=SC2086
    build_steps "$file" "$name" "$work/$t-cpu" "$work/steps-$t-cpu" cpu $opts &&
      build_steps "$file" "$name" "$work/$t-cuda" "$dir/steps-$t-cuda" cuda $opts ||
      return 1
    # The reference: the CPU library's tensors after the same steps.
    "$work/steps-$t-cpu" "$dir/$t.cpu.bin" > "$dir/$t.cpu.txt" ||
      { echo "gpu-check: the CPU run of $t failed" >&2; return 1; }
    build_bench "$name" "$work/$t-cuda" "$dir/bench-$t" || return 1
    echo "$t" >> "$dir/models"
  done
  : > "$dir/tf32"
  for m in "${tf32[@]}"; do
    entry "$m"
    t=$(tag "$name" "$opts")
    echo "== $t: compile f32 and TF32 for cuda" >&2
    # The f32 harness is the CPU comparison's when the model has one (a
    # hard link: the CUDA binaries of a GPT are 20 MB of PTX and cubins).
    # shellcheck disable=SC2086
    if [[ -x $dir/steps-$t-cuda ]]; then
      ln "$dir/steps-$t-cuda" "$dir/tf32-$t-f32"
    else
      build_steps "$file" "$name" "$work/$t-f32" "$dir/tf32-$t-f32" cuda $opts
    fi &&
      build_steps "$file" "$name" "$work/$t-tf32" "$dir/tf32-$t-tf32" cuda --allow-tf32 $opts ||
      return 1
    # The TF32 benchmark (the f32 one is bench-$t).
    build_bench "$name" "$work/$t-tf32" "$dir/bench-$t-tf32" || return 1
    echo "$t" >> "$dir/tf32"
  done
  : > "$dir/wide"
  for w in "${wide[@]}"; do
    for p in f32 tf32; do
      local opts=(--dim B=$w --dim W=$w) out=$work/wide-$w-$p
      [[ $p == tf32 ]] && opts+=(--allow-tf32)
      echo "== wide_mlp B=W=$w: compile $p for cuda" >&2
      "$graft" compile --target=cuda "${opts[@]}" "$root/bench/wide_mlp.graft" -o "$out" >> "$log" 2>&1 &&
        build_bench wide_mlp "$out" "$dir/wide-$w-$p" ||
        { tail -20 "$log" >&2; return 1; }
    done
    echo "$w" >> "$dir/wide"
  done
  rm -rf "$work"
  cp "$root/test/GPU/Inputs/compare.py" "$root/bench/torch_mlp_gpu.py" \
    "$root/bench/torch_gpt.py" "$dir/"
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
# next to this file, compares them with the CPU libraries' dumps (and TF32
# with f32), benchmarks, prints a summary. ncu's and compute-sanitizer's
# logs go to $OUT when it is set, else to this directory.
set -uo pipefail
dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
logs=${OUT:-$dir}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
steps=${GRAFT_BENCH_STEPS:-200}
summary=()
py=python3
note() { echo "$1"; summary+=("$1"); }

echo "== device"
nvidia-smi -L || echo "nvidia-smi: no GPU listed"
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm --format=csv,noheader 2>/dev/null

echo "== TF32 (--allow-tf32) against f32, both CUDA, state resident"
while IFS= read -r t; do
  ok=1
  for p in f32 tf32; do
    GRAFT_CUDA_VERBOSE=1 timeout 120 "$dir/tf32-$t-$p" "$work/$t.$p.bin" resident \
      > "$work/$t.$p.txt" 2>&1 || { ok=0; note "$t $p: FAILED: $(tail -2 "$work/$t.$p.txt" | tr '\n' ' ')"; }
  done
  [[ $ok == 1 ]] || continue
  cmp=$($py "$dir/compare.py" "$work/$t.f32.bin" "$work/$t.tf32.bin" 1e-2 1e-6 norm 2>&1)
  echo "$t tf32 vs f32: $(tail -1 <<< "$cmp")"; sed 's/^/    /' <<< "$cmp"
  paste -d'|' "$work/$t.f32.txt" "$work/$t.tf32.txt" | sed 's/^/    f32|tf32: /'
  summary+=("$t tf32 vs f32: $(tail -1 <<< "$cmp") ($(grep -m1 '^grad' <<< "$cmp" | tr -s ' '))")
done < "$dir/tf32"

echo "== CUDA libraries against the CPU libraries"
while IFS= read -r name; do
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
while IFS= read -r w; do
  # 5 products of 2*W^3 flops each (everything else is under 1%).
  for p in f32 tf32; do
    r=$(timeout 120 "$dir/wide-$w-$p" 20 3 2>&1) || r="wide-$w-$p: failed: $r"
    ms=$(grep -oE 'train step [0-9.]+ ms' <<< "$r" | grep -oE '[0-9.]+')
    [[ -n $ms ]] && r+=" [B=W=$w $p: $(awk -v w="$w" -v ms="$ms" 'BEGIN { printf "%.1f", 10 * w * w * w / ms / 1e9 }') TFLOP/s]"
    note "$r"
  done
done < "$dir/wide"
for b in "$dir"/bench-*; do
  r=$(timeout 120 "$b" "$steps" 2>&1) || r="$(basename "$b"): failed: $r"
  note "$r"
  # Without CUDA graphs: every call launches its kernels.
  r=$(GRAFT_CUDA_GRAPHS=0 timeout 120 "$b" "$steps" 2>&1) || r="$(basename "$b"): failed: $r"
  note "$r (GRAFT_CUDA_GRAPHS=0)"
done
pytorch() { # TIMEOUT SCRIPT ARGS...: a bench/torch_*.py baseline
  local p
  p=$(timeout "$1" $py "$dir/$2" "${@:3}" 2>&1 | grep -E 'pytorch|torch_|Error')
  echo "$p"
  while IFS= read -r line; do [[ -n $line ]] && summary+=("$line"); done <<< "$p"
}
# PyTorch eager now; torch.compile (a minute per model and mode) at the
# end: GRAFT_TORCH_MODES picks its modes for bench/mlp's network, the GPT
# and wide_mlp at 2048 (default: default,reduce-overhead; "none": none).
pytorch 300 torch_mlp_gpu.py "$steps" --modes eager
for prec in "" --tf32; do
  pytorch 120 torch_gpt.py 1 "$steps" --cuda $prec --modes eager
done
while IFS= read -r w; do
  pytorch 120 torch_mlp_gpu.py 20 --wide "$w" "$w" --modes eager
  pytorch 120 torch_mlp_gpu.py 20 --wide "$w" "$w" --tf32 --modes eager
done < "$dir/wide"

if command -v ncu > /dev/null; then
  for b in bench-bench_mlp wide-2048-tf32 wide-2048-f32; do
    [[ -x $dir/$b ]] || continue
    echo "== kernels of one $b train step (ncu)"
    timeout 180 ncu --metrics gpu__time_duration.sum --csv "$dir/$b" 1 0 \
      > "$logs/ncu-$b.csv" 2> "$logs/ncu-$b.err" || tail -5 "$logs/ncu-$b.err"
    k=$($py - "$logs/ncu-$b.csv" "$b" <<'EOF'
import csv, sys
rows = [r for r in csv.DictReader(l for l in open(sys.argv[1]) if l.startswith('"'))
        if r.get("Metric Name") == "gpu__time_duration.sum"]
scale = {"ns": 1e-3, "nsecond": 1e-3, "us": 1.0, "usecond": 1.0, "ms": 1e3, "msecond": 1e3}
for r in rows:
    r["us"] = float(r["Metric Value"].replace(",", "")) * scale.get(r["Metric Unit"], 1.0)
print("%s: %d kernel launches, %.1f us of kernel time per step (ncu: locked clocks)"
      % (sys.argv[2], len(rows), sum(r["us"] for r in rows)))
for r in sorted(rows, key=lambda r: -r["us"])[:15]:
    print("  %8.1f us  launch %s  grid %s block %s" % (r["us"], r["ID"], r["Grid Size"], r["Block Size"]))
EOF
)
    echo "$k"
    summary+=("ncu $(head -1 <<< "$k")")
  done
fi

if command -v compute-sanitizer > /dev/null; then
  # memcheck: out-of-bounds and misaligned accesses; racecheck: shared-memory
  # races in the tiled products (f32 and tensor-core) and block reductions.
  for exe in steps-digits_mlp-cuda "tf32-$(head -1 "$dir/tf32")-tf32"; do
    for tool in memcheck racecheck; do
      echo "== compute-sanitizer $tool: $exe, state resident"
      timeout 240 compute-sanitizer --tool $tool --error-exitcode 3 \
        "$dir/$exe" "$work/sanitizer.bin" resident > "$logs/$tool-$exe.txt" 2>&1
      rc=$?
      tail -2 "$logs/$tool-$exe.txt"
      summary+=("compute-sanitizer $tool ($exe): $([[ $rc == 0 ]] && echo clean || echo "exit $rc: $(grep -m1 -iE 'invalid|hazard|error' "$logs/$tool-$exe.txt")")")
    done
  done
fi

modes=${GRAFT_TORCH_MODES:-default,reduce-overhead}
if [[ $modes != none ]]; then
  echo "== torch.compile"
  pytorch 300 torch_mlp_gpu.py "$steps" --modes "$modes"
  for prec in "" --tf32; do
    pytorch 300 torch_gpt.py 1 "$steps" --cuda $prec --modes "$modes"
  done
  if grep -qx 2048 "$dir/wide"; then
    pytorch 240 torch_mlp_gpu.py 20 --wide 2048 2048 --modes "$modes"
    pytorch 240 torch_mlp_gpu.py 20 --wide 2048 2048 --tf32 --modes "$modes"
  fi
fi

echo
echo "SUMMARY"
printf '  %s\n' "${summary[@]}"
