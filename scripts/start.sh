#!/usr/bin/env bash
# Set up a virtual environment with the Playground's dependencies, then start it on
# http://127.0.0.1:8765 (the README's main command). Extra arguments go to `chainrule playground`,
# e.g. `bash scripts/start.sh --port 8080 --open`.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".[playground,viz]"
exec .venv/bin/chainrule playground "$@"
