#!/usr/bin/env bash
# The README's test command: installs what is missing, then configures,
# builds and runs every test with the `dev` preset (debug, g++).
set -euo pipefail
cd "$(dirname "$0")/.."
ci/bootstrap.sh
cmake --workflow --preset dev
