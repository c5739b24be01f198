"""The LSTM's fused steps (chainrule.kernels.recurrent_kernels) give bit for bit the outputs
and gradients of the NumPy passes in ops.lstm_layer.lstm_steps and lstm_sequence_backward."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import kernels

from bit_patterns import bits

pytest.importorskip("numba")


@pytest.fixture(autouse=True)
def numpy_lstm(monkeypatch):
    """These are the kernels of the NumPy path, which float32 takes where oneDNN is not
    installed (tests/recurrent/test_lstm_onednn.py covers oneDNN's)."""
    monkeypatch.setattr(cr.backends.onednn, "enabled", False)


def _grads(dtype, use_kernels, batch, bidirectional, use_state, seed=0, batch_first=False):
    cr.manual_seed(seed)
    lstm = cr.nn.LSTM(5, 7, num_layers=2, bidirectional=bidirectional,
                      batch_first=batch_first).to(cr.float64 if dtype == np.float64 else cr.float32)
    rng = np.random.default_rng(seed)
    shape = (batch, 6, 5) if batch_first else (6, batch, 5)   # batch_first: strided views inside
    x = cr.from_numpy(rng.standard_normal(shape).astype(dtype)).requires_grad_()
    if use_kernels:
        out, (h, c) = lstm(x)
    else:
        with kernels.disabled():
            out, (h, c) = lstm(x)
    w_out = cr.from_numpy(rng.standard_normal(out.shape).astype(dtype))
    loss = (out * w_out).sum()
    if use_state:               # gradients arriving at h_T and c_T as well
        loss = loss + (h * h).sum() + (c * 3).sum()
    if use_kernels:
        loss.backward()
    else:
        with kernels.disabled():
            loss.backward()
    outputs = [t.detach().numpy() for t in (out, h, c)]
    return outputs + [x.grad.numpy()] + [p.grad.numpy() for p in lstm.parameters()]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("batch, bidirectional, use_state, batch_first",
                         [(3, False, False, False), (1, True, True, False),
                          (4, True, False, False), (2, False, True, False),
                          (17, True, True, True), (0, False, True, True)])
def test_fused_lstm_backward_equals_numpy_passes(dtype, batch, bidirectional, use_state,
                                                 batch_first):
    fast = _grads(dtype, True, batch, bidirectional, use_state, batch_first=batch_first)
    slow = _grads(dtype, False, batch, bidirectional, use_state, batch_first=batch_first)
    assert len(fast) == len(slow)
    for a, b in zip(fast, slow):
        assert a.dtype == b.dtype == dtype
        np.testing.assert_array_equal(bits(a), bits(b))


def test_the_kernel_is_what_ran(monkeypatch):
    """Guard against a silent fallback: the fused path is taken for float32 inputs."""
    calls = []
    for name in ("lstm_backward_step", "lstm_gates_cell", "lstm_hidden"):
        real = kernels.get(name)
        monkeypatch.setitem(kernels._kernels, name,
                            lambda *a, _real=real, _name=name: (calls.append(_name), _real(*a)))
    _grads(np.float32, True, 2, False, False)
    for name in ("lstm_backward_step", "lstm_gates_cell", "lstm_hidden"):
        assert calls.count(name) == 2 * 6          # two layers, six steps


def test_float16_keeps_the_numpy_passes():
    """Numba compiles no float16: the kernels' callers leave such arrays to NumPy. (Before this
    check, an LSTM, Adam and SGD with momentum on float16 parameters raised Numba's
    NotImplementedError.)"""
    cr.manual_seed(0)
    lstm = cr.nn.LSTM(3, 4).to(cr.float16)
    x = cr.randn(5, 2, 3).to(cr.float16).requires_grad_()
    out, _ = lstm(x)
    out.sum().backward()
    assert out.dtype == cr.float16 and x.grad.dtype == cr.float16
    with kernels.disabled():
        out2, _ = lstm(x)
    np.testing.assert_array_equal(out.detach().numpy(), out2.detach().numpy())
    for make in (lambda p: cr.optim.Adam(p), lambda p: cr.optim.SGD(p, lr=0.1, momentum=0.9)):
        p = cr.nn.Parameter(cr.randn(7).to(cr.float16))
        opt = make([p])
        for _ in range(2):
            (p * p).sum().backward()
            opt.step()
        assert p.dtype == cr.float16 and bool(cr.isfinite(p).all())
