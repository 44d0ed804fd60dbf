#!/usr/bin/env bash
# The sanitizer check: configures and builds Graft with AddressSanitizer and
# UndefinedBehaviorSanitizer (GRAFT_SANITIZE, see CMakeLists.txt) in a build
# directory of its own, runs the lit suite under them, and prints one closing
# line of counts, sanitizer reports included. Exits non-zero on a failed test
# or any sanitizer report.
#
#   scripts/sanitize.sh                      the whole lit suite
#   scripts/sanitize.sh test/Frontend ...    only these suites (paths under test/)
#
# GRAFT_SANITIZE_BUILD_DIR: the build (default ./build-sanitize);
# GRAFT_SANITIZE: the -fsanitize= list (default address,undefined);
# GRAFT_JOBS: build parallelism (default 2). Incremental, like build.sh.
# Only the Debian packages of install-deps.sh: GCC's libasan and libubsan
# come with the compiler. The build is -O1 -g1: line numbers in the stacks.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${GRAFT_SANITIZE_BUILD_DIR:-$root/build-sanitize}
sanitize=${GRAFT_SANITIZE:-address,undefined}
jobs=${GRAFT_JOBS:-2}

fail() { echo "sanitize: 0 passed, 1 failed ($1)"; exit 1; }

"$root/scripts/install-deps.sh" || fail "installing the dependencies failed"

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
# Configure when new or when the sanitizer list changed.
if [[ ! -f "$build/build.ninja" ]] ||
   ! grep -qx "GRAFT_SANITIZE:STRING=$sanitize" "$build/CMakeCache.txt"; then
  cmake -G Ninja -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CXX_FLAGS_RELEASE="-O1 -g1 -DNDEBUG" \
    -DGRAFT_SANITIZE="$sanitize" \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit "${launcher[@]}" ||
    fail "configuring failed"
fi
# What lit runs (graft, graft-opt, graft-reference, the generated docs); not
# the unit tests or the fuzzer.
start=$SECONDS
ninja -C "$build" -j"$jobs" graft-lit-depends || fail "the build failed"
echo "== build: $(( SECONDS - start )) s"

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
# ASan frames are about ten times larger (GCC keeps every local in a slot of
# its own, between redzones): the front end's recursion over a 500-operation
# expression, 1.2 MB normally, overflows 8 MB. 64 MB leaves it the margin
# it has in a normal build.
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
trap 'rm -f "$log"' EXIT
start=$SECONDS
echo "== lit under $sanitize: ${suites[*]}"
/usr/lib/llvm-22/bin/lit -sv "${suites[@]}" | tee "$log"
lit_rc=${PIPESTATUS[0]}
echo "== lit: $(( SECONDS - start )) s"
# The same counting as scripts/test.sh.
count() { grep -E "^ *$1 *: +[0-9]+" "$log" | sed -E 's/.*: +([0-9]+).*/\1/' | tail -1 | grep . || echo 0; }
passed=$(( $(count Passed) + $(count 'Expectedly Failed') ))
failed=$(( $(count Failed) + $(count 'Unexpectedly Passed') + $(count Unresolved) + $(count 'Timed Out') ))
skipped=$(count Unsupported)
if [[ $lit_rc -ne 0 && $failed -eq 0 ]]; then failed=1; fi

# GCC's runtimes symbolize with libbacktrace, which names some of Graft's
# frames without a file and line: llvm-symbolizer fills those in.
symbolize() {
  python3 - "$1" "$ASAN_SYMBOLIZER_PATH" <<'PY'
import re, subprocess, sys
frame = re.compile(r"^(\s*#(\d+) 0x[0-9a-f]+ in .*?) \((/[^()+]+)\+(0x[0-9a-f]+)\)$")
for line in open(sys.argv[1], errors="replace"):
    m = frame.match(line.rstrip("\n"))
    if not m:
        print(line, end="")
        continue
    pc = int(m.group(4), 16) - (1 if m.group(2) != "0" else 0)  # return address
    out = subprocess.run([sys.argv[2], "--obj=" + m.group(3), hex(pc)],
                         capture_output=True, text=True).stdout.split("\n")
    locs = [l for l in out[1::2] if l and not l.startswith("??")]
    print(" ".join([m.group(1)] + ([" <- ".join(locs)] if locs else []) + ["(%s+%s)" % (m.group(3), m.group(4))]))
PY
}
shopt -s nullglob
files=("$reports"/*)
for f in "${files[@]}"; do
  echo "== sanitizer report $f"
  symbolize "$f" || cat "$f"
done
# UBSan in an ASan build ignores log_path (GCC 12): its reports are on the
# failing tests' stderr, in lit's output above; each aborts its test.
ubsan=$(grep -c ': runtime error: ' "$log" || true)
if [[ $ubsan -gt 0 ]]; then
  echo "== UBSan reports (the tests' output above has their stacks)"
  grep ': runtime error: ' "$log"
fi
total=$(( ${#files[@]} + ubsan ))
echo "sanitize: $passed passed, $failed failed, $skipped skipped, $total sanitizer reports"
[[ $failed -eq 0 && $total -eq 0 ]]
