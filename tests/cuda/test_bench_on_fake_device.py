"""``python -m bench --device cuda``: chainrule's side of W2-W5 runs on the (fake) CUDA device
and reaches the CPU's loss; without a GPU the option is refused with the reason."""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", ".."))

import chainrule as cr                          # noqa: E402
from bench import workloads                     # noqa: E402
from bench.__main__ import main as bench_main   # noqa: E402


def _loss_after(name, steps=2):
    step = workloads.WORKLOADS[name][1]("chainrule")
    for _ in range(steps - 1):
        step.run()
    return step.run(want_loss=True)


@pytest.mark.parametrize("name", ["W2", "W4"])   # W3 and W5 take the same path, slower
def test_gpu_workloads_run_on_the_device(fake_cuda, name):
    expected = _loss_after(name)
    workloads.DEVICE["name"] = "cuda"
    try:
        got = _loss_after(name)
    finally:
        workloads.DEVICE["name"] = "cpu"
    np.testing.assert_allclose(got, expected, rtol=1e-4)


def test_device_cuda_is_refused_without_a_gpu(capsys):
    pytest.importorskip("torch")
    if cr.cuda.is_available():
        pytest.skip("a GPU is here: scripts/gpu_check.sh runs the real benchmark")
    assert bench_main(["--device", "cuda", "-w", "W2"]) == 2
    assert "--device cuda needs a GPU" in capsys.readouterr().err
