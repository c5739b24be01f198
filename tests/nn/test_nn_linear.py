"""Linear: PyTorch's default initialisation, equality with torch, gradcheck, bad input."""
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
import chainrule.nn.functional as F


@pytest.mark.parametrize("shape", [(5, 4), (4,), (2, 3, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(shape, bias):
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Linear(4, 3, bias=bias).double()
    ours = nn.Linear(4, 3, bias=bias).double()
    ours.load_state_dict(theirs.state_dict())
    x = np.random.default_rng(0).standard_normal(shape)
    xc = cr.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    yc, yt = ours(xc), theirs(xt)
    np.testing.assert_allclose(yc.detach().numpy(), yt.detach().numpy(), rtol=1e-6, atol=1e-12)
    g = np.random.default_rng(1).standard_normal(yc.shape)
    yc.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-12)
    for (n, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-6, atol=1e-12,
                                   err_msg=n)


def test_linear_gradcheck():
    lin = nn.Linear(3, 2).double()
    x = cr.randn(2, 4, 3, dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradcheck(lambda x, w, b: F.linear(x, w, b), (x, lin.weight, lin.bias))


def test_linear_default_init_bounds():
    cr.manual_seed(0)
    lin = nn.Linear(400, 300)
    bound = 1 / math.sqrt(400)
    w = lin.weight.numpy(force=True)
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.98 * bound
    # U(-b, b) has variance b^2 / 3
    assert abs(w.var() - bound ** 2 / 3) < 0.03 * bound ** 2 / 3
    assert np.abs(lin.bias.numpy(force=True)).max() <= bound
    assert lin.weight.dtype == cr.float32
    assert sum(p.numel() for p in lin.parameters()) == 400 * 300 + 300


def test_linear_seeded():
    cr.manual_seed(3)
    a = nn.Linear(5, 5).weight.numpy(force=True).copy()
    cr.manual_seed(3)
    b = nn.Linear(5, 5).weight.numpy(force=True)
    np.testing.assert_array_equal(a, b)


def test_linear_wrong_trailing_size_names_the_layer():
    lin = nn.Linear(784, 256)
    with pytest.raises(RuntimeError, match=r"Linear\(784 -> 256\) expected input \(\.\.\., 784\), "
                                           r"got \(32, 28, 28\)"):
        lin(cr.zeros(32, 28, 28))


def test_identity_and_repr():
    x = cr.randn(3)
    assert nn.Identity(54, unused="x")(x) is x
    assert repr(nn.Linear(2, 3, bias=False)) == "Linear(in_features=2, out_features=3, bias=False)"
