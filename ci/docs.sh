#!/usr/bin/env bash
# The API reference, as CI checks it: configures the `release` preset and
# builds its `docs` target (Doxygen HTML under build/release/docs/html),
# which fails on any Doxygen warning and on any undocumented public name
# (ci/check-api-docs.py).
set -euo pipefail
cd "$(dirname "$0")/.."
command -v doxygen >/dev/null || { echo "docs.sh: doxygen missing (run ci/bootstrap.sh)" >&2; exit 1; }
cmake --preset release >/dev/null
cmake --build --preset release --target docs
echo "docs: build/release/docs/html/index.html"
