#!/usr/bin/env bash
# Validates .github/workflows/*.yml against the GitHub workflow schema with
# check-jsonschema (from PyPI, installed into a venv under build/).
set -euo pipefail
cd "$(dirname "$0")/.."
venv=build/tools-venv
if [ ! -x "$venv/bin/check-jsonschema" ]; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q check-jsonschema
fi
"$venv/bin/check-jsonschema" --builtin-schema vendor.github-workflows .github/workflows/*.yml
