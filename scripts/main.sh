#!/usr/bin/env bash
# The main job: installs what is missing, builds Graft, then compiles the
# bundled digits classifier (examples/digits_mlp.graft) and trains it on the
# bundled data set (data/digits), evaluating on the test split after each
# epoch. Outputs go to ./out: checkpoint, CSV log and SVG plot.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${GRAFT_BUILD_DIR:-$root/build}
out=${GRAFT_OUT_DIR:-$root/out}

echo "== Installing dependencies and building Graft"
"$root/scripts/build.sh"

graft="$build/bin/graft"
model="$root/examples/digits_mlp.graft"
echo
echo "== $("$graft" --version)"
echo "== Checking $model"
"$graft" check "$model"
echo
echo "== Training (forward, backward and Adam compiled to native code in process)"
mkdir -p "$out"
"$graft" train "$model" \
  --data "$root/data/digits/train.csv" --test "$root/data/digits/test.csv" \
  --epochs "${GRAFT_EPOCHS:-15}" --seed 0 \
  -o "$out/digits_mlp.safetensors" --log "$out/digits_mlp.csv" \
  --plot "$out/digits_mlp.svg"
echo
echo "== Predicting with the checkpoint"
"$graft" predict "$model" --checkpoint "$out/digits_mlp.safetensors" \
  --data "$root/data/digits/test.csv"
