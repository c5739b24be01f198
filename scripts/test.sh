#!/usr/bin/env bash
# Set up a virtual environment with everything the test suite needs, then run it.
# This is the README's test command.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
# torch is the reference the tests compare against: pinned, CPU-only, dev-only.
# distributed brings mpi4py and Open MPI's wheel, whose mpirun lands in .venv/bin (tests/distributed);
# mkl the BLAS that chainrule.kernels.blas hands the products to (tests/kernels/test_blas.py).
.venv/bin/python -m pip install --quiet -e ".[dev,viz,playground,notebooks,onnx,amp,distributed,fast,mkl,onednn]" \
    "torch==2.13.0"
# Debian packages: Chromium for the Playground's browser tests (driven through Playwright, never
# `playwright install`) and Graphviz's `dot` for cr.viz.draw_graph's Graphviz layout.
missing=""
[ -x /usr/bin/chromium ] || missing="$missing chromium"
command -v dot >/dev/null || missing="$missing graphviz"
if [ -n "$missing" ] && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing) >/dev/null 2>&1 \
        || echo "warning: could not install$missing; the tests that need them will be skipped" >&2
fi
.venv/bin/python -m pytest -q "$@"
# The core suite again with every op on its reference path (the lecture's formula written out):
# both paths must give the same results. Skipped when arguments select particular tests.
if [ "$#" -eq 0 ]; then
    echo "== the core tests again with CHAINRULE_REFERENCE=1"
    CHAINRULE_REFERENCE=1 .venv/bin/python -m pytest -q -p no:cacheprovider tests/test_smoke.py \
        tests/autograd tests/nn tests/optim tests/conv tests/recurrent tests/attention tests/workflow \
        tests/cuda
fi
