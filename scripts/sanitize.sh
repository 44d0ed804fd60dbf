#!/usr/bin/env bash
# The sanitizer check (CI runs it after the test command): configures and
# builds Graft with clang-22, AddressSanitizer and UndefinedBehaviorSanitizer
# (GRAFT_SANITIZE), warnings as errors (GRAFT_WERROR) and the libFuzzer
# targets (GRAFT_FUZZERS) in a build directory of its own, then runs under
# the sanitizers: the lit suite (the C runtime of the libraries it compiles
# and links included), the unit tests, every fuzzer for GRAFT_FUZZ_TIME
# seconds over its seeds, and the README's main job. Prints one closing line
# of counts, sanitizer reports included; exits non-zero on a failed test or
# any sanitizer report.
#
#   scripts/sanitize.sh                      everything
#   scripts/sanitize.sh test/Frontend ...    only these lit suites (paths under test/)
#
# GRAFT_SANITIZE_BUILD_DIR: the build (default ./build-sanitize);
# GRAFT_SANITIZE: the -fsanitize= list (default address,undefined);
# GRAFT_FUZZ_TIME: seconds per fuzzer (default 20); GRAFT_JOBS: build
# parallelism (default 2). Incremental, like build.sh. Only the Debian
# packages of install-deps.sh (clang-22, libclang-rt-22-dev). The build is
# -O1 -g1: line numbers in the stacks.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${GRAFT_SANITIZE_BUILD_DIR:-$root/build-sanitize}
sanitize=${GRAFT_SANITIZE:-address,undefined}
jobs=${GRAFT_JOBS:-2}
export GRAFT_FUZZ_TIME=${GRAFT_FUZZ_TIME:-20}
fuzz_time=$GRAFT_FUZZ_TIME
cc=/usr/bin/clang-22
cxx=/usr/bin/clang++-22

fail() { echo "sanitize: 0 passed, 1 failed ($1)"; exit 1; }

"$root/scripts/install-deps.sh" || fail "installing the dependencies failed"

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
# Configure when new or when the sanitizer list changed; a build of another
# compiler (CMake cannot switch) is started afresh.
if [[ -f "$build/CMakeCache.txt" ]] &&
   ! grep -qxE "CMAKE_CXX_COMPILER:[A-Z]+=$cxx" "$build/CMakeCache.txt"; then
  rm -rf "$build"
fi
if [[ ! -f "$build/build.ninja" ]] ||
   ! grep -qx "GRAFT_SANITIZE:STRING=$sanitize" "$build/CMakeCache.txt"; then
  cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_CXX_COMPILER="$cxx" \
    -DCMAKE_CXX_FLAGS_RELEASE="-O1 -g1 -DNDEBUG" \
    -DGRAFT_SANITIZE="$sanitize" -DGRAFT_FUZZERS=ON -DGRAFT_WERROR=ON \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit "${launcher[@]}" ||
    fail "configuring failed"
fi
# Everything when the whole check runs; what lit runs (graft, graft-opt,
# graft-reference, the generated docs) when only some suites do.
everything=1
[[ $# -gt 0 ]] && everything=0
targets=(graft-lit-depends)
[[ $everything == 1 ]] && targets=(all)
start=$SECONDS
ninja -C "$build" -j"$jobs" "${targets[@]}" || fail "the build failed"
echo "== build: $(( SECONDS - start )) s"
# scripts/fuzz.sh: just the build.
[[ -n ${GRAFT_SANITIZE_BUILD_ONLY:-} ]] && exit 0

# Each ASan report goes to a file of its own: a report is counted even where
# the test passed anyway (output not checked, `|| true`). abort_on_error: a
# sanitizer error is a crash, which `not` does not accept. The options built
# into the binaries (cmake/SanitizerDefaults.cpp) come first; these add to
# them. LLVM and MLIR leak on purpose at exit: no leak checking.
reports="$build/sanitizer-reports"
rm -rf "$reports"
mkdir -p "$reports"
export ASAN_OPTIONS="detect_leaks=0:abort_on_error=1:log_path=$reports/asan${ASAN_OPTIONS:+:$ASAN_OPTIONS}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:abort_on_error=1:log_path=$reports/ubsan${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}"
# ASan frames are several times larger (every local in a slot of its own,
# between redzones): the front end's recursion over a 500-operation
# expression, 1.2 MB normally, can overflow 8 MB. 64 MB leaves it the
# margin it has in a normal build.
if [[ $(ulimit -s) != unlimited && $(ulimit -s) -lt 65536 ]]; then
  ulimit -s 65536 || echo "sanitize: cannot raise the stack limit; deep-input tests may overflow"
fi
export ASAN_SYMBOLIZER_PATH=${ASAN_SYMBOLIZER_PATH:-/usr/lib/llvm-22/bin/llvm-symbolizer}
export UBSAN_SYMBOLIZER_PATH=${UBSAN_SYMBOLIZER_PATH:-$ASAN_SYMBOLIZER_PATH}

suites=()
for s in "$@"; do
  s=${s#"$root"/}
  suites+=("$build/${s%/}")
done
[[ ${#suites[@]} -eq 0 ]] && suites=("$build/test")

log=$(mktemp)
all=$(mktemp)
trap 'rm -f "$log" "$all"' EXIT
start=$SECONDS
echo "== lit under $sanitize: ${suites[*]}"
/usr/lib/llvm-22/bin/lit -sv "${suites[@]}" | tee "$log"
lit_rc=${PIPESTATUS[0]}
cat "$log" >> "$all"
echo "== lit: $(( SECONDS - start )) s"
# The same counting as scripts/test.sh.
count() { grep -E "^ *$1 *: +[0-9]+" "$log" | sed -E 's/.*: +([0-9]+).*/\1/' | tail -1 | grep . || echo 0; }
passed=$(( $(count Passed) + $(count 'Expectedly Failed') ))
failed=$(( $(count Failed) + $(count 'Unexpectedly Passed') + $(count Unresolved) + $(count 'Timed Out') ))
skipped=$(count Unsupported)
if [[ $lit_rc -ne 0 && $failed -eq 0 ]]; then failed=1; fi

if [[ $everything == 1 ]]; then
  # The unit tests and the fuzzers (ctest's fuzz-*; a fuzzer that finds a
  # crash fails its test and leaves the input as crash-* in the build).
  start=$SECONDS
  echo "== unit tests and fuzzers (${fuzz_time} s each) under $sanitize"
  ctest --test-dir "$build" --output-on-failure -j2 -E "^lit$" | tee "$log"
  ctest_rc=${PIPESTATUS[0]}
  cat "$log" >> "$all"
  ctest_total=$(grep -Eo 'tests failed out of [0-9]+' "$log" | awk '{print $NF}' | tail -1)
  ctest_fail=$(grep -Eo '[0-9]+ tests failed out of' "$log" | awk '{print $1}' | tail -1)
  ctest_total=${ctest_total:-0}
  ctest_fail=${ctest_fail:-0}
  if [[ $ctest_rc -ne 0 && $ctest_fail -eq 0 ]]; then ctest_fail=1; fi
  passed=$(( passed + ctest_total - ctest_fail ))
  failed=$(( failed + ctest_fail ))
  echo "== ctest: $(( SECONDS - start )) s"

  # The README's main job on the sanitized build: check, train, predict.
  start=$SECONDS
  echo "== the main job under $sanitize"
  if GRAFT_BUILD_DIR="$build" GRAFT_OUT_DIR="$build/main-job" GRAFT_EPOCHS=3 GRAFT_LM_STEPS=100 \
     "$root/scripts/main.sh" 2>&1 | tee "$log"; then
    passed=$(( passed + 1 ))
  else
    failed=$(( failed + 1 ))
  fi
  cat "$log" >> "$all"
  echo "== main job: $(( SECONDS - start )) s"
fi

shopt -s nullglob
files=("$reports"/*)
for f in "${files[@]}"; do
  echo "== sanitizer report $f"
  cat "$f"
done
# UBSan's reports in an ASan build may go to the failing program's stderr
# rather than to log_path: count those seen in the output above too.
ubsan=$(grep -c ': runtime error: ' "$all" || true)
if [[ $ubsan -gt 0 ]]; then
  echo "== UBSan reports (the output above has their stacks)"
  grep ': runtime error: ' "$all"
fi
total=$(( ${#files[@]} + ubsan ))
echo "sanitize: $passed passed, $failed failed, $skipped skipped, $total sanitizer reports"
[[ $failed -eq 0 && $total -eq 0 ]]
