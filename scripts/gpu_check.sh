#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: install CuPy (and PyTorch's CUDA build when missing), run
# tests/cuda against the GPU, then the benchmark's W2-W5 with --device cuda against PyTorch on
# the same GPU. Usage: bash scripts/gpu_check.sh [python]   (default: python3)
# Writes bench-gpu.json and prints the table; exits non-zero when a test fails.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${1:-python3}"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || {
    echo "gpu_check: no NVIDIA GPU visible (nvidia-smi failed)" >&2; exit 2; }
"$PY" -m pip install --quiet -e ".[dev,cuda]"
"$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)" 2>/dev/null \
    || "$PY" -m pip install --quiet "torch==2.13.0" --index-url https://download.pytorch.org/whl/cu128
"$PY" - <<'PYEOF'
import chainrule as cr, cupy, torch
print("chainrule cuda:", cr.cuda.is_available(), cr.cuda.get_device_name(), "| cupy", cupy.__version__,
      "| torch", torch.__version__, "cuda", torch.cuda.is_available())
PYEOF
status=0
"$PY" -m pytest -q -p no:cacheprovider tests/cuda -x || status=$?
CHAINRULE_REFERENCE=1 "$PY" -m pytest -q -p no:cacheprovider tests/cuda/test_on_gpu.py -x || status=$?
"$PY" -m bench --device cuda -w W2 -w W3 -w W4 -w W5 --json bench-gpu.json --markdown || status=$?
exit $status
