#!/usr/bin/env bash
# The Python package (python/): `pip install ./python` into a venv of
# Debian's python3.11, the binding's pytest tests, then CPython's own
# test_selectors and test_asyncio suites on unipoll's selector and event
# loop on every Linux backend, compared test by test with the built-in loop
# (ci/cpython_suites.py). About 8 minutes on a loaded 2-core machine.
#
#   UNIPOLL_PYTHON_BACKENDS=epoll,io_uring,poll   backends to run the suites on
set -euo pipefail
cd "$(dirname "$0")/.."

ci/bootstrap.sh
python=/usr/bin/python3.11
venv=build/python-venv
if ! "$venv/bin/python" -c 'import sys' 2>/dev/null; then
    "$python" -m venv "$venv"
fi
"$venv/bin/python" -m pip install -q --upgrade pytest
# --force-reinstall: rebuild from this tree even if the version is unchanged.
"$venv/bin/python" -m pip install -q --force-reinstall --no-deps ./python

"$venv/bin/python" -m pytest -q python/tests
"$venv/bin/python" ci/cpython_suites.py --backends "${UNIPOLL_PYTHON_BACKENDS:-epoll,io_uring,poll}"
