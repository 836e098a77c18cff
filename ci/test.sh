#!/usr/bin/env bash
# The README's test command: installs what is missing, checks that every
# reference to a Markdown file or section resolves, then configures, builds
# and runs every test with the `dev` preset (debug, g++).
set -euo pipefail
cd "$(dirname "$0")/.."
ci/bootstrap.sh
ci/check-references.py
cmake --workflow --preset dev
