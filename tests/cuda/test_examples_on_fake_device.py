"""The examples' ``device=`` reaches the model and every batch: on the fake ``cuda`` device they
compute the CPU's numbers (the parameters hold device arrays while they train)."""
import importlib.util
import os

import numpy as np
import pytest

import chainrule as cr
from fake_array_module import FakeDeviceArray

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")


def _load(name):
    spec = importlib.util.spec_from_file_location(f"example_{name}",
                                                  os.path.join(EXAMPLES, f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _watch_devices(monkeypatch):
    """Record the array type of every parameter an optimiser is built over."""
    seen = []
    original = cr.optim.Optimizer.__init__

    def init(self, params, *args, **kwargs):
        params = list(params)
        seen.extend(type(p.array) for p in params if isinstance(p, cr.Tensor))
        original(self, params, *args, **kwargs)
    monkeypatch.setattr(cr.optim.Optimizer, "__init__", init)
    return seen


def test_xor_and_regression_train_on_the_fake_device(fake_cuda, monkeypatch):
    xor, regression = _load("xor"), _load("regression")

    def run(device):
        cr.manual_seed(0)
        model = cr.nn.Sequential(cr.nn.Linear(2, 4), cr.nn.Tanh(), cr.nn.Linear(4, 1))
        return xor.train(model, xor.X, 20, lr=0.1, device=device), regression.fit_line(2, device)
    cpu = run("cpu")
    seen = _watch_devices(monkeypatch)
    cuda = run("cuda")
    assert seen and all(t is FakeDeviceArray for t in seen)
    assert [*cuda[0], *cuda[1]] == pytest.approx([*cpu[0], *cpu[1]], rel=1e-5)


def test_char_transformer_samples_on_the_fake_device(fake_cuda):
    example = _load("char_transformer")
    chars = sorted(set("to be or not"))
    index = {c: i for i, c in enumerate(chars)}
    data = np.array([index[c] for c in "to be or not to be " * 8], dtype=np.int64)
    cr.manual_seed(0)
    model = example.CharTransformer(len(chars), 8, d_model=16, nhead=2, layers=1)
    on_cpu = (example.validation_loss(model, data, 8),
              example.sample(model, "to ", 6, 0.8, chars, index))
    model.to("cuda")
    assert type(model.pos.weight.array) is FakeDeviceArray
    on_cuda = (example.validation_loss(model, data, 8, device="cuda"),
               example.sample(model, "to ", 6, 0.8, chars, index, device="cuda"))
    assert on_cuda[0] == pytest.approx(on_cpu[0], rel=1e-5)
    assert on_cuda[1] == on_cpu[1]
