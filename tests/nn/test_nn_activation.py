"""Activations: equality with PyTorch (forward and gradient, float64), gradcheck, stability."""
import math
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
import chainrule.nn.functional as F
from chainrule.ops.activation import erf
from nn_oracle import close, run_both

torch = pytest.importorskip("torch")

# (chainrule module, torch module): the same configuration on both sides
CASES = [
    (lambda: nn.Sigmoid(), lambda: torch.nn.Sigmoid()),
    (lambda: nn.Tanh(), lambda: torch.nn.Tanh()),
    (lambda: nn.ReLU(), lambda: torch.nn.ReLU()),
    (lambda: nn.LeakyReLU(), lambda: torch.nn.LeakyReLU()),
    (lambda: nn.LeakyReLU(0.2), lambda: torch.nn.LeakyReLU(0.2)),
    (lambda: nn.ELU(), lambda: torch.nn.ELU()),
    (lambda: nn.ELU(alpha=0.5), lambda: torch.nn.ELU(alpha=0.5)),
    (lambda: nn.SELU(), lambda: torch.nn.SELU()),
    (lambda: nn.Softplus(), lambda: torch.nn.Softplus()),
    (lambda: nn.Softplus(beta=2, threshold=3), lambda: torch.nn.Softplus(beta=2, threshold=3)),
    (lambda: nn.GELU(), lambda: torch.nn.GELU()),
    (lambda: nn.GELU(approximate="tanh"), lambda: torch.nn.GELU(approximate="tanh")),
    (lambda: nn.SiLU(), lambda: torch.nn.SiLU()),
    (lambda: nn.Mish(), lambda: torch.nn.Mish()),
    (lambda: nn.Hardtanh(), lambda: torch.nn.Hardtanh()),
    (lambda: nn.Hardtanh(-2, 0.5), lambda: torch.nn.Hardtanh(-2, 0.5)),
    (lambda: nn.ReLU6(), lambda: torch.nn.ReLU6()),
    (lambda: nn.Hardsigmoid(), lambda: torch.nn.Hardsigmoid()),
    (lambda: nn.Hardswish(), lambda: torch.nn.Hardswish()),
    (lambda: nn.Softsign(), lambda: torch.nn.Softsign()),
    (lambda: nn.Softmax(dim=1), lambda: torch.nn.Softmax(dim=1)),
    (lambda: nn.Softmax(dim=-1), lambda: torch.nn.Softmax(dim=-1)),
    (lambda: nn.LogSoftmax(dim=1), lambda: torch.nn.LogSoftmax(dim=1)),
    (lambda: nn.Softmin(dim=0), lambda: torch.nn.Softmin(dim=0)),
    (lambda: nn.Identity(), lambda: torch.nn.Identity()),
]
IDS = [repr(c[1]()) for c in CASES]


@pytest.mark.parametrize("make", CASES, ids=IDS)
@pytest.mark.parametrize("shape", [(7,), (4, 5), (2, 3, 4)])
def test_activation_matches_torch(make, shape):
    if len(shape) == 1 and "dim=1" in repr(make[1]()):
        pytest.skip("dim=1 needs two dimensions")
    x = np.random.default_rng(len(shape)).standard_normal(shape) * 4
    x.flat[0] = 0.0  # the kink of ReLU-like functions: PyTorch's subgradient choice
    run_both(make[0](), make[1](), [x])


@pytest.mark.parametrize("make", CASES, ids=IDS)
def test_activation_gradcheck(make):
    x = cr.tensor(np.random.default_rng(5).standard_normal((3, 4)) * 3, requires_grad=True)
    # keep clear of kinks, where finite differences straddle two slopes
    x.array[np.abs(np.abs(x.array) - 3) < 0.05] += 0.2
    x.array[np.abs(x.array) < 0.05] += 0.2
    x.array[np.abs(x.array - 0.5) < 0.05] += 0.2
    assert cr.autograd.gradcheck(make[0](), (x,))


@pytest.mark.parametrize("make", CASES, ids=IDS)
def test_activation_extremes_are_finite(make):
    x = cr.tensor([[-1000.0, -50.0, 0.0, 50.0, 1000.0]], requires_grad=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        y = make[0]()(x)
        y.sum().backward()
    assert np.all(np.isfinite(y.detach().numpy()))
    assert np.all(np.isfinite(x.grad.numpy()))
    with torch.no_grad():
        close(y, make[1]()(torch.tensor(x.detach().numpy())), "extremes", rtol=1e-5, atol=1e-6)


def test_sigmoid_and_softplus_tails_exact():
    x = cr.tensor([-1000.0, 1000.0], dtype=cr.float64)
    np.testing.assert_array_equal(F.sigmoid(x).numpy(), [0.0, 1.0])
    np.testing.assert_array_equal(F.softplus(x).numpy(), [0.0, 1000.0])


def test_erf_double_precision():
    xs = np.concatenate([np.linspace(-7, 7, 4001), [0.0, 1e-300, -2.0, 2.0, 30.0, -30.0]])
    ours = erf(xs)
    ref = np.array([math.erf(v) for v in xs])
    np.testing.assert_allclose(ours, ref, rtol=4e-15, atol=1e-300)


def test_prelu_matches_torch():
    for n in (1, 3):
        ours, theirs = nn.PReLU(n).double(), torch.nn.PReLU(n).double()
        with torch.no_grad():
            theirs.weight.copy_(torch.tensor(np.linspace(0.1, 0.4, n)))
        from nn_oracle import compare_modules
        compare_modules(ours, theirs, np.random.default_rng(0).standard_normal((4, 3, 2)))
    assert list(nn.PReLU().state_dict()) == list(torch.nn.PReLU().state_dict())


def test_softmax_implicit_dim_warns_like_torch():
    with pytest.warns(UserWarning, match="Implicit dimension"):
        y = F.softmax(cr.randn(2, 3))
    np.testing.assert_allclose(y.sum(1).numpy(), 1, rtol=1e-6)


def test_maxout_picks_the_best_piece():
    m = nn.Maxout(3, 2, pieces=4).double()
    x = cr.randn(5, 3, dtype=cr.float64, requires_grad=True)
    z = x.numpy(force=True) @ m.weight.numpy(force=True).T + m.bias.numpy(force=True)
    np.testing.assert_allclose(m(x).detach().numpy(), z.reshape(5, 2, 4).max(-1), rtol=1e-12)
    assert cr.autograd.gradcheck(lambda x, w, b: m(x), (x, m.weight, m.bias))
    assert sum(p.numel() for p in m.parameters()) == 3 * 2 * 4 + 2 * 4
    with pytest.raises(RuntimeError, match=r"Linear\(3 -> 8\) expected input \(\.\.\., 3\), got \(5, 4\)"):
        m(cr.randn(5, 4, dtype=cr.float64))


def test_reprs_match_torch():
    for ours, theirs in CASES:
        assert repr(ours()) == repr(theirs())


def test_prelu_gradcheck_input_and_weight():
    x = cr.tensor(rand_away_from_zero((3, 2, 4)), requires_grad=True)
    for n in (1, 2):
        w = cr.tensor(np.linspace(0.1, 0.3, n), requires_grad=True)
        assert cr.autograd.gradcheck(F.prelu, (x, w))


def rand_away_from_zero(shape):
    x = np.random.default_rng(2).standard_normal(shape)
    return np.where(np.abs(x) < 0.1, 0.3, x)
