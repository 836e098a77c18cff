#!/usr/bin/env bash
# Runs the conformance suite, unit tests and fuzz corpus replays under the
# asan (ASan+UBSan) and tsan presets, the emulated kqueue ones under both
# personalities among them. No suppressions are used. With
# UNIPOLL_REQUIRE_BACKENDS set, every suite it names must have run and
# passed (ci/required_suites.py).
#   ci/sanitizers.sh [asan] [tsan]     (default: both)
set -euo pipefail
cd "$(dirname "$0")/.."
presets=("$@")
[ ${#presets[@]} -gt 0 ] || presets=(asan tsan)
for p in "${presets[@]}"; do
    echo "== $p: configure and build"
    # The tools and examples are not run here; skip building them.
    cmake --preset "$p" -DUNIPOLL_BUILD_TOOLS=OFF -DUNIPOLL_BUILD_EXAMPLES=OFF >/dev/null
    cmake --build --preset "$p"
    echo "== $p: conformance, unit tests and fuzz replays"
    ctest --preset "$p" -L 'conformance|unit|fuzz'
    if [ -n "${UNIPOLL_REQUIRE_BACKENDS:-}" ]; then
        python3 ci/required_suites.py "build/$p/ctest-junit.xml"
    fi
done
