"""LSTM layers on oneDNN (the ``onednn`` extra): float32 outputs and gradients agree with the
NumPy path and with PyTorch to float32 rounding, in every direction and layout, and the
library's workspace is never shared between two forwards that a backward still needs."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.backends import onednn
from chainrule.ops import lstm_onednn

pytestmark = pytest.mark.skipif(not onednn.is_available(), reason="oneDNN is not installed")
torch = pytest.importorskip("torch")


@pytest.fixture(autouse=True)
def fast_path():
    with cr.backends.reference(False):     # oneDNN is a fast path: off under the reference
        yield


def _run(lstm, x, on_onednn, monkeypatch, state_grads=True):
    monkeypatch.setattr(onednn, "enabled", on_onednn)
    ran = []
    real = lstm_onednn.forward
    monkeypatch.setattr(lstm_onednn, "forward", lambda *a: (ran.append(1), real(*a))[1])
    x = x.detach().requires_grad_()
    out, (h, c) = lstm(x)
    w = cr.from_numpy(np.linspace(-1, 1, out.numel(), dtype=np.float32).reshape(out.shape))
    loss = (out * w).sum() + ((h * h).sum() + (c * 3).sum() if state_grads else 0)
    loss.backward()
    assert bool(ran) == on_onednn
    return [t.detach().numpy().copy() for t in (out, h, c, x.grad)] + \
        [p.grad.numpy().copy() for p in lstm.parameters()]


@pytest.mark.parametrize("layers, bidirectional, batch_first, bias", [
    (1, False, False, True), (2, True, False, True), (1, False, True, False),
    (2, True, True, True)])
def test_onednn_equals_the_numpy_path(layers, bidirectional, batch_first, bias, monkeypatch):
    cr.manual_seed(0)
    lstm = cr.nn.LSTM(5, 7, num_layers=layers, bidirectional=bidirectional,
                      batch_first=batch_first, bias=bias)
    shape = (3, 6, 5) if batch_first else (6, 3, 5)
    x = cr.from_numpy(np.random.default_rng(1).standard_normal(shape).astype(np.float32))
    for state_grads in (True, False):
        dnn = _run(lstm, x, True, monkeypatch, state_grads)
        for p in lstm.parameters():
            p.grad = None
        ref = _run(lstm, x, False, monkeypatch, state_grads)
        for p in lstm.parameters():
            p.grad = None
        for a, b in zip(dnn, ref):
            assert a.dtype == np.float32
            np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)


def test_onednn_matches_torch_at_the_benchmarks_size():
    cr.manual_seed(0)
    ours = cr.nn.LSTM(64, 256, batch_first=True)
    theirs = torch.nn.LSTM(64, 256, batch_first=True)
    theirs.load_state_dict({k: torch.from_numpy(v.numpy().copy())
                            for k, v in ours.state_dict().items()})
    x = np.random.default_rng(2).standard_normal((32, 64, 64)).astype(np.float32)
    xo, xt = cr.from_numpy(x).requires_grad_(), torch.from_numpy(x).requires_grad_()
    (oo, _), (ot, _) = ours(xo), theirs(xt)
    (oo * oo).sum().backward()
    (ot * ot).sum().backward()
    np.testing.assert_allclose(oo.detach().numpy(), ot.detach().numpy(), atol=1e-5)
    np.testing.assert_allclose(xo.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-4)
    for (name, p), q in zip(ours.named_parameters(), theirs.parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-3, atol=1e-3,
                                   err_msg=name)


def test_two_forwards_before_one_backward_keep_their_own_workspaces(monkeypatch):
    cr.manual_seed(0)
    lstm = cr.nn.LSTM(4, 5)
    rng = np.random.default_rng(3)
    xs = [cr.from_numpy(rng.standard_normal((7, 2, 4)).astype(np.float32)) for _ in range(2)]

    def grads(on):
        monkeypatch.setattr(onednn, "enabled", on)
        for p in lstm.parameters():
            p.grad = None
        loss = sum((lstm(x)[0] ** 2).sum() * (k + 1) for k, x in enumerate(xs))
        loss.backward(retain_graph=True)
        first = [p.grad.numpy().copy() for p in lstm.parameters()]
        lstm(xs[0])[0].sum().backward()        # a forward between: the pool must not lend
        for p in lstm.parameters():
            p.grad = None
        loss.backward()                        # the retained graph's workspaces, again
        return first, [p.grad.numpy().copy() for p in lstm.parameters()]
    (a1, a2), (b1, b2) = grads(True), grads(False)
    for a, b in zip(a1 + a2, b1 + b2):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5)
    for a, b in zip(a1, a2):
        np.testing.assert_array_equal(a, b)


def test_inference_without_grad_uses_no_workspace_and_gives_the_training_outputs():
    cr.manual_seed(0)
    lstm = cr.nn.LSTM(4, 6)
    x = cr.randn(5, 3, 4)
    with cr.no_grad():
        out, (h, c) = lstm(x)
    trained, _ = lstm(x)
    np.testing.assert_array_equal(out.numpy(), trained.detach().numpy())
    assert any(not key[5] for key in lstm_onednn._PLANS)      # an inference plan was made


def test_switching_off_and_other_dtypes_take_the_numpy_path(monkeypatch):
    x = np.zeros((2, 1, 3), np.float32)
    w_ih, w_hh, h = np.zeros((8, 3), np.float32), np.zeros((8, 2), np.float32), \
        np.zeros((1, 2), np.float32)
    assert lstm_onednn.applies(x, w_ih, w_hh, h, h, [])
    assert not lstm_onednn.applies(x.astype(np.float64), w_ih, w_hh, h, h, [])
    assert not lstm_onednn.applies(x[:0], w_ih, w_hh, h, h, [])
    monkeypatch.setattr(cr.backends.mkldnn, "enabled", False)
    assert not lstm_onednn.applies(x, w_ih, w_hh, h, h, [])
    with cr.backends.reference():
        monkeypatch.setattr(cr.backends.mkldnn, "enabled", True)
        assert not lstm_onednn.applies(x, w_ih, w_hh, h, h, [])


def test_a_forked_child_runs_its_lstm_on_the_numpy_path():
    import multiprocessing
    if "fork" not in multiprocessing.get_all_start_methods():
        pytest.skip("no fork on this platform")
    cr.nn.LSTM(3, 4)(cr.randn(2, 1, 3))      # oneDNN loaded and its threads started here
    ctx = multiprocessing.get_context("fork")
    with ctx.Pool(1) as pool:
        shape, available = pool.apply(_child_lstm)
    assert shape == (5, 2, 4) and available is False


def _child_lstm():
    out, _ = cr.nn.LSTM(3, 4)(cr.randn(5, 2, 3))
    return tuple(out.shape), onednn.is_available()
