#!/usr/bin/env bash
# The main job: installs what is missing, builds Graft, then compiles the
# bundled digits classifier (examples/digits_mlp.graft) and trains it on the
# bundled data set (data/digits), evaluating on the test split after each
# epoch; then trains a character-level GPT (examples/nanogpt.graft,
# nanoGPT's model.py) on Genesis and Exodus of the King James Version
# (data/kjv) for about a minute and samples text from it. Outputs go to
# ./out: checkpoints, CSV logs and SVG plots.
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

echo
echo "== A character-level GPT (examples/nanogpt.graft) on Genesis and Exodus (data/kjv)"
"$root/data/kjv/prepare.sh" "$out/kjv"
lm="$root/examples/nanogpt.graft"
# nanoGPT's shakespeare_char shape, smaller: 4 layers of 4 heads, 128 wide,
# a context of 64 characters; the vocabulary is the text's characters.
vocab=$(python3 -c 'import sys; print(len(set(open(sys.argv[1], encoding="utf-8").read())))' "$out/kjv/train.txt")
lm_dims=(--dim V="$vocab" --dim T=64 --dim C=128 --dim H=4 --dim L=4 --dim B=16)
"$graft" train "$lm" "${lm_dims[@]}" --dim DROPOUT=1 \
  --data "$out/kjv/train.txt" --test "$out/kjv/val.txt" \
  --steps "${GRAFT_LM_STEPS:-1200}" --eval-every 200 --seed 0 \
  -o "$out/kjv_gpt.safetensors" --log "$out/kjv_gpt.csv" \
  --plot "$out/kjv_gpt.svg"
echo
echo "== Sampling from it"
"$graft" generate "$lm" "${lm_dims[@]}" --checkpoint "$out/kjv_gpt.safetensors" \
  --prompt "And God said" --max-new-tokens 400 --temperature 0.8 --seed 0
