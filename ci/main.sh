#!/usr/bin/env bash
# The README's main command: installs what is missing, builds an optimised
# unipoll, runs the conformance suite for every backend on this machine and
# prints a per-backend report (also written to report/conformance.md).
set -euo pipefail
cd "$(dirname "$0")/.."
ci/bootstrap.sh
cmake --preset release >/dev/null
cmake --build --preset release
mkdir -p report
status=0
ctest --preset release -L conformance --output-junit "$PWD/report/conformance.xml" || status=$?
python3 ci/conformance_report.py report/conformance.xml report/conformance.md
echo
echo "Report: report/conformance.md (JUnit: report/conformance.xml)"
exit "$status"
