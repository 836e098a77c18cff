#!/usr/bin/env bash
# The README's main command: installs what is missing, builds an optimised
# unipoll, runs the conformance suite for every backend on this machine, then
# the kernel comparison (unipoll-compare), and ends by printing where the
# reports are. Extra arguments go to unipoll-compare (e.g. --quick).
set -euo pipefail
cd "$(dirname "$0")/.."
ci/bootstrap.sh
cmake --preset release >/dev/null
cmake --build --preset release
mkdir -p report
status=0
ctest --preset release -L conformance --test-output-size-passed 20000000 --output-junit "$PWD/report/conformance.xml" || status=$?
python3 ci/conformance_report.py report/conformance.xml report/conformance.md
echo
# The comparison exits non-zero only on a real error (a lost wake, a
# failed measurement), never because of the numbers it measured.
build/release/tools/unipoll-compare --out report/compare "$@" || status=$?
echo
echo "Conformance: report/conformance.md (JUnit: report/conformance.xml)"
echo "Comparison:  report/compare/report.md (report.json, report.png)"
exit "$status"
