#!/usr/bin/env bash
# The test command: installs what is missing, builds, and runs every suite —
# the lit/FileCheck tests (IR, passes, CLI, diagnostics) and the GoogleTest
# unit tests under ctest — then prints one closing line of counts.
set -uo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${GRAFT_BUILD_DIR:-$root/build}

# PyTorch is a test dependency: the goldens are made again by the PyTorch of
# this machine, and the exporter's tests train PyTorch's models side by side.
"$root/scripts/install-deps.sh" --torch || { echo "tests: 0 passed, 1 failed (installing the dependencies failed)"; exit 1; }
"$root/scripts/build.sh" || { echo "tests: 0 passed, 1 failed (the build failed)"; exit 1; }

log=$(mktemp)
trap 'rm -f "$log"' EXIT

echo "== lit: $build/test"
/usr/lib/llvm-22/bin/lit -sv "$build/test" | tee "$log"
lit_rc=${PIPESTATUS[0]}
# lit's summary: "  Passed: 12 (100.00%)", padded ("  Passed     : 87") when other
# lines are present; a missing line means 0.
count() { grep -E "^ *$1 *: +[0-9]+" "$log" | sed -E 's/.*: +([0-9]+).*/\1/' | tail -1 | grep . || echo 0; }
lit_pass=$(( $(count Passed) + $(count 'Expectedly Failed') ))
lit_fail=$(( $(count Failed) + $(count 'Unexpectedly Passed') + $(count Unresolved) + $(count 'Timed Out') ))
lit_skip=$(count Unsupported)
if [[ $lit_rc -ne 0 && $lit_fail -eq 0 ]]; then lit_fail=1; fi

echo "== ctest (unit tests and other suites): $build"
# The lit suite is also registered with ctest; it just ran above.
ctest --test-dir "$build" --output-on-failure -j2 -E '^lit$' | tee "$log"
ctest_rc=${PIPESTATUS[0]}
ctest_total=$(grep -Eo 'tests failed out of [0-9]+' "$log" | awk '{print $NF}' | tail -1)
ctest_fail=$(grep -Eo '[0-9]+ tests failed out of' "$log" | awk '{print $1}' | tail -1)
ctest_total=${ctest_total:-0}
ctest_fail=${ctest_fail:-0}
# ctest counts a skipped test (GTEST_SKIP) among the passed ones.
ctest_skip=$(grep -cE '^ *[0-9]+/[0-9]+ Test +#[0-9]+: .*Skipped' "$log" || true)
if [[ $ctest_rc -ne 0 && $ctest_fail -eq 0 ]]; then ctest_fail=1; fi

passed=$(( lit_pass + ctest_total - ctest_fail - ctest_skip ))
failed=$(( lit_fail + ctest_fail ))
echo "tests: $passed passed, $failed failed, $(( lit_skip + ctest_skip )) skipped"
[[ $failed -eq 0 ]]
