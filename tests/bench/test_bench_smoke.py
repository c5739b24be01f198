"""Smoke test of the benchmark suite (quick mode): it runs, both frameworks agree on the loss after
five steps, and the JSON has the documented shape. Timing is printed by the suite, never asserted."""
import json
import os
import subprocess
import sys

import pytest

pytest.importorskip("torch")
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def test_quick_run_writes_documented_json(tmp_path):
    out = tmp_path / "bench.json"
    res = subprocess.run([sys.executable, "-m", "bench", "--quick", "-w", "W1", "-w", "W6-b1",
                          "--json", str(out)], cwd=ROOT, capture_output=True, text=True,
                         timeout=300)
    assert res.returncode == 0, res.stderr
    assert "ratio" in res.stdout and "W1 playground" in res.stdout
    data = json.loads(out.read_text())
    assert set(data) == {"machine", "workloads"}
    assert data["machine"]["matmul_gflops"] > 0
    assert set(data["workloads"]) == {"W1", "W6-b1"}
    for w in data["workloads"].values():
        for key in ("chainrule_ms_p50", "torch_ms_p50", "ratio", "chainrule_peak_mb",
                    "torch_peak_mb", "loss_match"):
            assert key in w
        assert w["loss_match"] is True
        assert w["ratio"] == pytest.approx(w["chainrule_ms_p50"] / w["torch_ms_p50"])
        # the hand-written NumPy reference runs beside them and trains to the same loss
        assert w["numpy_loss_match"] is True
        assert w["numpy_ratio"] == pytest.approx(w["numpy_ms_p50"] / w["torch_ms_p50"])


def test_unknown_workload_is_refused():
    res = subprocess.run([sys.executable, "-m", "bench", "-w", "W99"], cwd=ROOT,
                         capture_output=True, text=True, timeout=60)
    assert res.returncode == 2
    assert "invalid choice: 'W99'" in res.stderr


def test_products_are_recorded_with_their_layouts():
    """--profile's product replay sees every product of a W2 step: three forward, and the
    weight gradients and input gradients of backward (the first layer's input needs none)."""
    sys.path.insert(0, ROOT)
    from bench.products import record_products, time_products
    calls = record_products("W2")
    shapes = [tuple(spec[0] for spec in args) for _, args, _ in calls]
    assert shapes[:3] == [((128, 784), (784, 256)), ((128, 256), (256, 256)),
                          ((128, 256), (256, 10))]
    assert len(calls) == 8
    assert ((256, 128), (128, 784)) in shapes          # dL/dW1 = g^T x
    layouts = {spec[2] for _, args, _ in calls for spec in args}
    assert layouts == {"C", "F"}                       # W^T and g^T are transposed views
    numpy_ms, torch_ms, mkl_ms = time_products(calls[:1], reps=1)
    assert numpy_ms > 0 and torch_ms > 0
    from chainrule.kernels import blas
    assert (mkl_ms is None) == (not blas.available()) and (mkl_ms is None or mkl_ms > 0)


def test_profile_counts_onednn_and_numba_as_kernels():
    from bench.profile import category
    assert category(("/x/src/chainrule/backends/onednn.py", 197, "execute")) == "kernels"
    assert category(("/x/src/chainrule/kernels/optim_kernels.py", 29, "adam")) == "kernels"
    assert category(("/x/src/chainrule/kernels/blas.py", 76, "matmul")) == "products"
    assert category(("/x/src/chainrule/autograd/engine.py", 111, "run_backward")) == "engine"
