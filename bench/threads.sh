#!/usr/bin/env bash
# Threads, quiet and with a core taken (issue 17): for each model, graft's
# step at 1 and 2 threads on a quiet machine (the speed-up), then again
# while another process keeps a core busy (a shell busy loop), and the
# ratio of the 2-thread to the 1-thread step there (the bound: 1.2x). Each
# time is the fastest of GRAFT_BENCH_ROUNDS rounds (default 3) of
# GRAFT_BENCH_STEPS steps (default 30). Needs a build (scripts/build.sh).
#
#   bench/threads.sh [mlp|lenet|conv|mnist|gpt|tiny ...]   (default: all)
#     tiny: a 4-64-32-1 MLP at batch 32 (Adam), whose loops are too small
#       for threads
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${GRAFT_BUILD_DIR:-$root/build}
steps=${GRAFT_BENCH_STEPS:-30}
rounds=${GRAFT_BENCH_ROUNDS:-3}
work=$(mktemp -d)
busy=
cleanup() { [[ -n $busy ]] && kill "$busy" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

cat > "$work/tiny.graft" <<'GRAFT'
dim B = 32
model tiny {
  input x: f32[B, 4]
  input y: f32[B, 1]
  fc1 = Linear(4, 64)
  fc2 = Linear(64, 32)
  fc3 = Linear(32, 1)
  out = fc3(relu(fc2(relu(fc1(x)))))
  output out
  train {
    loss = mse_loss(out, y)
    optimizer = Adam(lr=0.001)
  }
}
GRAFT

models=("$@")
[[ ${#models[@]} -eq 0 ]] && models=(tiny mlp lenet conv mnist gpt)
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'), $(nproc) cores"

# step MODEL THREADS: the fastest step of the rounds, in ms.
step() {
  local best= t
  for ((r = 0; r < rounds; ++r)); do
    t=$("$build/bin/graft" bench "${args[@]}" --steps "$1" --threads "$2" |
        grep -Eo 'train_step [0-9.]+ ms' | grep -Eo '[0-9.]+')
    if [[ -z $best ]] || awk -v a="$t" -v b="$best" 'BEGIN{exit !(a < b)}'; then best=$t; fi
  done
  echo "$best"
}

declare -A q1 q2 b1 b2
for m in "${models[@]}"; do
  case $m in
    tiny) args=("$work/tiny.graft") n=$((steps * 100)) ;;
    mlp) args=("$root/bench/mlp.graft") n=$steps ;;
    lenet) args=("$root/examples/lenet.graft") n=$steps ;;
    conv) args=("$root/bench/conv.graft") n=$steps ;;
    mnist) args=("$root/examples/mnist.graft") n=$steps ;;
    gpt) args=("$root/examples/nanogpt.graft" --dim B=8 --dim T=128
               --dim C=128 --dim H=4 --dim L=4 --dim DROPOUT=1) n=$steps ;;
    *) echo "usage: bench/threads.sh [mlp|lenet|conv|mnist|gpt|tiny ...]" >&2; exit 2 ;;
  esac
  q1[$m]=$(step $n 1) q2[$m]=$(step $n 2)
  sh -c 'while :; do :; done' & busy=$!
  b1[$m]=$(step $n 1) b2[$m]=$(step $n 2)
  kill "$busy"; wait "$busy" 2>/dev/null || true; busy=
done

printf '%-7s %-10s %-10s %-9s | %-10s %-10s %s\n' model "quiet 1t" "quiet 2t" speed-up \
  "busy 1t" "busy 2t" "busy 2t/1t"
for m in "${models[@]}"; do
  printf '%-7s %-10s %-10s %-9s | %-10s %-10s %s\n' "$m" "${q1[$m]}" "${q2[$m]}" \
    "$(awk -v a="${q1[$m]}" -v b="${q2[$m]}" 'BEGIN{printf "%.2fx", a/b}')" \
    "${b1[$m]}" "${b2[$m]}" \
    "$(awk -v a="${b2[$m]}" -v b="${b1[$m]}" 'BEGIN{printf "%.2fx", a/b}')"
done
echo "(ms per train step; the busy loop shares a core with one of the threads)"
