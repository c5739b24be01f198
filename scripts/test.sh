#!/usr/bin/env bash
# Set up a virtual environment with everything the test suite needs, then run it.
# This is the README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
# torch is the reference the tests compare against: pinned, CPU-only, dev-only.
.venv/bin/python -m pip install --quiet -e ".[dev,viz]" "torch==2.13.0"
.venv/bin/python -m pytest "$@"
