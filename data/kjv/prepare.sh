#!/usr/bin/env bash
# Writes the text the main job's language model trains on: Genesis and
# Exodus of the King James Version, from Debian's bible-kjv packages
# (scripts/install-deps.sh installs them), one verse a line, without the
# chapter headings and verse numbers. The first 90% of it goes to
# OUT/train.txt, the rest to OUT/val.txt (nanoGPT's split). See README.md
# for the source and the licence.
#
#   data/kjv/prepare.sh OUT
set -euo pipefail
out=${1:?usage: prepare.sh OUT}
mkdir -p "$out"
if ! command -v bible > /dev/null; then
  echo "prepare.sh: the 'bible' program (Debian's bible-kjv) is not installed;" \
       "run scripts/install-deps.sh" >&2
  exit 1
fi
# bible pretty-prints "Genesis 1" headings and "  12 " verse numbers;
# -l 1000 keeps each verse on one line.
bible -l 1000 Genesis1:1-Exodus40:38 |
  sed -E '/^[A-Za-z0-9 ]+ [0-9]+$/d; /^$/d; s/^ *[0-9]+ //' > "$out/all.txt"
bytes=$(wc -c < "$out/all.txt")
split=$(( bytes * 9 / 10 ))
head -c "$split" "$out/all.txt" > "$out/train.txt"
tail -c +"$((split + 1))" "$out/all.txt" > "$out/val.txt"
rm "$out/all.txt"
echo "prepare.sh: $(wc -c < "$out/train.txt") characters of training text," \
     "$(wc -c < "$out/val.txt") held out ($out)"
