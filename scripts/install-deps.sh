#!/usr/bin/env bash
# Installs Graft's build and test dependencies from Debian's own archive, and
# nothing else. Idempotent: packages already present are left alone, and apt is
# not touched at all when everything is installed. Runs as root or via sudo.
#
#   scripts/install-deps.sh            build + test dependencies
#   scripts/install-deps.sh --torch    also python3-torch, torchvision and onnx: the
#                                      test command's PyTorch side (goldens made
#                                      again, tools/graft-export.py) and bench/
set -euo pipefail

packages=(
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools clang-22 lld-22
  libclang-rt-22-dev
  cmake ninja-build googletest libgtest-dev python3 ccache graphviz zlib1g-dev
  # Data-parallel training: graft train under mpirun, the C API's
  # graft_dist_init_mpi and their tests (docs/Distributed.md).
  libopenmpi-dev openmpi-bin
  # graft import: ONNX models (protobuf messages, checker, shape inference).
  libonnx-dev libprotobuf-dev
  # The main job's text (data/kjv): the King James Version and its reader.
  bible-kjv
)
if [[ "${1:-}" == "--torch" ]]; then
  packages+=(python3-torch python3-torchvision python3-numpy libopenblas0-pthread
            python3-onnx)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages already installed"
  exit 0
fi

sudo=()
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo=(sudo)
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}"
