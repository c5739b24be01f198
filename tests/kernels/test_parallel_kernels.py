"""The kernels' parallel builds (chainrule.kernels.parallel) give the serial builds' bits: each
op run with its kernels' parallel builds (every size, PARALLEL_MIN = 0) and with the serial
ones, outputs and gradients compared bit for bit, NaN, infinities and signed zeros included; and
the switch follows OMP_NUM_THREADS, cr.set_num_threads and fork."""
import os
import subprocess
import sys

import numpy as np
import pytest

import chainrule as cr
from chainrule import kernels
from chainrule.kernels import parallel

from bit_patterns import bits

pytest.importorskip("numba")
pytestmark = pytest.mark.skipif(not kernels.available(), reason="kernels off (CHAINRULE_KERNELS=0)")


def _threads_on():
    """Whether the parallel builds run here (a big enough call starts the threads)."""
    if not kernels.available():
        return False
    kernels.get("relu_forward", kernels.PARALLEL_MIN)
    return bool(parallel.on)


needs_threads = pytest.mark.skipif(not _threads_on(), reason="no parallel threading layer or one thread")


def with_specials(shape, dtype, seed):
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    flat = a.reshape(-1)
    flat[:6] = [np.nan, np.inf, -np.inf, -0.0, 0.0, 1e-30]
    return a


def run_both(fn, monkeypatch):
    """fn() with the parallel builds for every size, then with the serial builds."""
    monkeypatch.setattr(kernels, "PARALLEL_MIN", 0)
    got = fn()
    monkeypatch.setattr(parallel, "on", False)
    want = fn()
    monkeypatch.setattr(parallel, "on", True)
    return got, want


def assert_same_bits(got, want):
    assert len(got) == len(want)
    for g, w in zip(got, want):
        assert g.shape == w.shape and g.dtype == w.dtype
        np.testing.assert_array_equal(bits(g), bits(w))


def _layer_pass(make, x_np, specials, seed=0):
    def fn():
        cr.manual_seed(seed)
        layer = make().to(cr.float64 if x_np.dtype == np.float64 else cr.float32)
        x = cr.tensor(x_np, requires_grad=True)
        y = layer(x)
        shape = tuple(y.shape)
        g = with_specials(shape, x_np.dtype, seed + 1) if specials else \
            np.random.default_rng(seed + 1).standard_normal(shape).astype(x_np.dtype)
        y.backward(cr.tensor(g))
        return [y.detach().numpy(), x.grad.numpy()] + [p.grad.numpy() for p in layer.parameters()]
    return fn


class _Outputs(cr.nn.Module):
    """A recurrent layer's output sequence alone (the layer returns it with its last state)."""

    def __init__(self, layer):
        super().__init__()
        self.layer = layer

    def forward(self, x):
        return self.layer(x)[0]


LAYERS = {
    "lstm": (lambda: _Outputs(cr.nn.LSTM(6, 10, batch_first=True)), (3, 7, 6)),
    "lstm bidirectional": (lambda: _Outputs(cr.nn.LSTM(5, 8, bidirectional=True)), (6, 2, 5)),
    "relu": (lambda: cr.nn.ReLU(), (161, 129)),           # over ReLU._KERNEL_MIN
    "linear (bias_add)": (lambda: cr.nn.Linear(33, 70), (5, 9, 33)),
    "conv per image, bias row": (lambda: cr.nn.Conv2d(2, 4, 3, padding=1), (3, 2, 9, 11)),
    "conv batch-last": (lambda: cr.nn.Conv2d(6, 16, 5), (4, 6, 9, 9)),
    "conv strided, groups": (lambda: cr.nn.Conv2d(4, 6, 3, stride=2, groups=2), (3, 4, 11, 10)),
    "conv dilated, no bias": (lambda: cr.nn.Conv2d(3, 5, 3, dilation=2, bias=False), (2, 3, 12, 12)),
    "max pool 2x2": (lambda: cr.nn.MaxPool2d(2), (3, 4, 10, 12)),
    "max pool overlapping": (lambda: cr.nn.MaxPool2d(3, stride=2, padding=1), (3, 4, 11, 9)),
    "max pool 1d": (lambda: cr.nn.MaxPool1d(4, stride=3), (2, 3, 29)),
}


@needs_threads
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(LAYERS))
def test_layers_parallel_builds_give_the_serial_bits(monkeypatch, name, dtype):
    make, shape = LAYERS[name]
    specials = name.startswith(("relu", "max"))     # NaN through a product is NaN everywhere
    x = with_specials(shape, dtype, 3) if specials else \
        np.random.default_rng(3).standard_normal(shape).astype(dtype)
    assert_same_bits(*run_both(_layer_pass(make, x, specials), monkeypatch))


@needs_threads
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("make", [
    lambda p: cr.optim.SGD(p, lr=0.1, momentum=0.9),
    lambda p: cr.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, dampening=0),
    lambda p: cr.optim.Adam(p, lr=1e-2),
    lambda p: cr.optim.Adam(p, lr=1e-2, amsgrad=True),
    lambda p: cr.optim.AdamW(p, lr=1e-2, weight_decay=0.1),
], ids=["sgd", "nesterov", "adam", "amsgrad", "adamw"])
def test_optimiser_parallel_builds_give_the_serial_bits(monkeypatch, dtype, make):
    def fn():
        w = cr.tensor(with_specials((513, 7), dtype, 0), requires_grad=True)
        opt = make([w])
        for step in range(3):
            w.grad = cr.tensor(np.random.default_rng(step).standard_normal((513, 7)).astype(dtype))
            opt.step()
        return [w.detach().numpy()]
    assert_same_bits(*run_both(fn, monkeypatch))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_the_bias_kernel_gives_numpys_bits(monkeypatch, dtype):
    """Linear's bias by the bias_add kernel (serial or parallel) equals NumPy's y += b."""
    monkeypatch.setattr(kernels, "PARALLEL_MIN", 0)
    x = cr.tensor(with_specials((37, 20), dtype, 0))
    layer = cr.nn.Linear(20, 11).to(cr.float64 if dtype == np.float64 else cr.float32)
    with cr.no_grad():
        layer.bias.copy_(cr.tensor(with_specials((11,), dtype, 1)))
        got = layer(x).numpy()
        with kernels.disabled():
            want = layer(x).numpy()
    np.testing.assert_array_equal(bits(got), bits(want))


def test_one_thread_means_the_serial_builds():
    code = ("from chainrule import kernels; kernels.get('relu_forward', 1 << 20); "
            "print(kernels.parallel.on)")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "False"


@needs_threads
def test_small_arrays_never_start_the_threads():
    code = ("import chainrule as cr; from chainrule import kernels; "
            "cr.relu(cr.randn(20000)); m = cr.nn.Linear(2, 8); "
            "opt = cr.optim.SGD(m.parameters(), lr=0.1, momentum=0.9); "
            "m(cr.randn(10, 2)).sum().backward(); opt.step(); "
            "print(kernels.available(), kernels.parallel.on)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "None"]    # serial builds ran; no thread started


def test_set_num_threads_switches_the_parallel_builds():
    before = cr.get_num_threads()
    try:
        cr.set_num_threads(1)
        assert not parallel.on
        assert kernels.get("relu_forward", 1 << 30) is kernels._kernels["relu_forward"]
        cr.set_num_threads(2)
        assert parallel.on
        assert kernels.get("relu_forward", 1 << 30) is kernels._parallel["relu_forward"]
        assert kernels.get("relu_forward", 10) is kernels._kernels["relu_forward"]
    finally:
        cr.set_num_threads(before)


@needs_threads
@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork")
def test_a_forked_child_runs_the_serial_builds():
    x = cr.randn(1 << 17)
    cr.relu(x)                                   # the parent's threads have run
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:                                 # the child: the serial builds, and they work
        try:
            ok = not parallel.on and float(cr.relu(-x).sum()) >= 0
            os.write(write, b"1" if ok else b"0")
        finally:
            os._exit(0)
    os.close(write)
    answer = os.read(read, 1)
    os.waitpid(pid, 0)
    assert answer == b"1"
    assert parallel.on
