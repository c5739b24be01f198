#!/usr/bin/env bash
# Set up a virtual environment with everything the test suite needs, then run it.
# This is the README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
# torch is the reference the tests compare against: pinned, CPU-only, dev-only.
.venv/bin/python -m pip install --quiet -e ".[dev,viz,playground]" "torch==2.13.0"
# The Playground's browser tests drive Debian's Chromium through Playwright (never `playwright install`).
if [ ! -x /usr/bin/chromium ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/dev/null 2>&1 \
        || echo "warning: could not install chromium; the browser tests will be skipped" >&2
fi
.venv/bin/python -m pytest "$@"
