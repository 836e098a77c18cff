#!/usr/bin/env bash
# Runs the conformance suite and unit tests under the asan (ASan+UBSan) and
# tsan presets. No suppressions are used.
#   ci/sanitizers.sh [asan] [tsan]     (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(asan tsan)
for p in "${presets[@]}"; do
    echo "== $p: configure and build"
    cmake --preset "$p" >/dev/null
    cmake --build --preset "$p"
    echo "== $p: conformance and unit tests"
    ctest --preset "$p" -L 'conformance|unit'
done
