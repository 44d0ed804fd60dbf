#!/usr/bin/env bash
# Runs Graft's fuzzers for a long time (the test suites run each for seconds):
#
#   scripts/fuzz.sh [-t SECONDS] [NAME...]
#
# NAME: parser, frontend, passes, checkpoint, csv (default: all, one after
# the other); SECONDS per fuzzer (default 600). Builds the sanitizer build
# first (scripts/sanitize.sh's: clang-22, ASan, UBSan, libFuzzer). Each
# fuzzer's corpus grows in the build tree (build-sanitize/fuzz/corpus-NAME);
# an input that crashes one is saved as build-sanitize/fuzz/crash-*:
# reproduce with `build-sanitize/bin/graft-NAME-fuzzer FILE`, then add it to
# the seeds (fuzz/corpus/NAME, or test/Frontend/fuzz-regressions for model
# files) with the fix. Each run starts from a fresh random seed
# (GRAFT_FUZZ_SEED=0; the test suites use a fixed one).
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${GRAFT_SANITIZE_BUILD_DIR:-$root/build-sanitize}
seconds=600
if [[ ${1:-} == -t ]]; then
  seconds=${2:?-t needs a number of seconds}
  shift 2
fi
names=("$@")
[[ ${#names[@]} -eq 0 ]] && names=(parser frontend passes checkpoint csv)

GRAFT_SANITIZE_BUILD_ONLY=1 "$root/scripts/sanitize.sh" || exit 1
ulimit -s 65536 2>/dev/null || true
status=0
for name in "${names[@]}"; do
  echo "== fuzz-$name for $seconds s"
  GRAFT_FUZZ_TIME=$seconds GRAFT_FUZZ_SEED=${GRAFT_FUZZ_SEED:-0} ctest --test-dir "$build" -R "^fuzz-$name\$" \
    --output-on-failure --timeout $(( seconds + 600 )) || status=1
done
exit $status
