"""The same checks on a real GPU through CuPy: skipped, with the reason, where there is none.

Every op-case row on ``cuda`` against chainrule on the CPU (same inputs, float64), a training
run against PyTorch's CUDA build when it is installed (else against chainrule on the CPU), from
the same weights. scripts/gpu_check.sh installs CuPy and runs this folder on a GPU machine.
"""
import copy

import numpy as np
import pytest

import chainrule as cr
from autograd_op_cases import inputs_for, params
from test_ops_on_fake_device import run_case

pytestmark = pytest.mark.skipif(not cr.cuda.is_available(),
                                reason="no CUDA device here (needs a GPU and CuPy: "
                                       "pip install 'chainrule[cuda]')")


@pytest.fixture(autouse=True)
def _back_to_cpu():
    yield
    cr.set_default_device(None)


def test_cuda_tensors_hold_cupy_arrays():
    import cupy
    x = cr.randn(3, 4, device="cuda")
    assert isinstance(x.array, cupy.ndarray) and x.is_cuda and str(x.device) == "cuda:0"
    assert cr.cuda.device_count() >= 1 and isinstance(cr.cuda.get_device_name(), str)


@pytest.mark.parametrize("case, shapes", params())
def test_op_case_on_the_gpu_matches_the_cpu(case, shapes):
    arrays = inputs_for(case, shapes)
    cpu_out, cpu_grads = run_case(case, arrays, "cpu")
    gpu_out, gpu_grads = run_case(case, arrays, "cuda")
    for c, g in zip(cpu_out, gpu_out):
        np.testing.assert_allclose(g, c, rtol=1e-8, atol=1e-10)
    for c, g in zip(cpu_grads, gpu_grads):
        assert (c is None) == (g is None)
        if g is not None:
            np.testing.assert_allclose(g[1], c[1], rtol=1e-8, atol=1e-10)


def _lenet(nn):
    return nn.Sequential(nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
                         nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(),
                         nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 10))


def _steps(lib, model, x, y, n=5):
    opt = lib.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for _ in range(n):
        opt.zero_grad()
        loss = lib.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        lib.nn.utils.clip_grad_norm_(model.parameters(), 5.0)
        opt.step()
        losses.append(float(loss.item()))
    return losses


def test_training_on_the_gpu_matches_the_reference():
    cr.manual_seed(0)
    model = _lenet(cr.nn)
    rng = np.random.default_rng(0)
    x_np = rng.standard_normal((16, 1, 28, 28)).astype(np.float32)
    y_np = rng.integers(0, 10, 16)
    try:
        import torch
        on_torch_gpu = torch.cuda.is_available()
    except ImportError:
        on_torch_gpu = False
    if on_torch_gpu:
        tmodel = _lenet(torch.nn)
        tmodel.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                                for k, v in model.state_dict().items()})
        expected = _steps(torch, tmodel.cuda(), torch.from_numpy(x_np).cuda(),
                          torch.from_numpy(y_np).cuda())
    else:
        expected = _steps(cr, copy.deepcopy(model), cr.from_numpy(x_np), cr.from_numpy(y_np))
    got = _steps(cr, model.to("cuda"), cr.from_numpy(x_np).cuda(), cr.from_numpy(y_np).cuda())
    np.testing.assert_allclose(got, expected, rtol=2e-3, atol=1e-4)
