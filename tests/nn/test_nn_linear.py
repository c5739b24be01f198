"""Linear: PyTorch's default initialisation, equality with torch, gradcheck, bad input."""
import math

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
import chainrule.nn.functional as F


def _matches_torch(x, bias=True, view=lambda t: t):
    """A Linear(4, 3) on ``view`` of the float64 input ``x``: its output and every gradient equal
    PyTorch's; returns chainrule's output."""
    torch = pytest.importorskip("torch")
    theirs = torch.nn.Linear(4, 3, bias=bias).double()
    ours = nn.Linear(4, 3, bias=bias).double()
    ours.load_state_dict(theirs.state_dict())
    xc = cr.tensor(x, requires_grad=True)
    xt = torch.tensor(x, requires_grad=True)
    yc, yt = ours(view(xc)), theirs(view(xt))
    np.testing.assert_allclose(yc.detach().numpy(), yt.detach().numpy(), rtol=1e-6, atol=1e-12)
    g = np.random.default_rng(1).standard_normal(yc.shape)
    yc.backward(cr.tensor(g))
    yt.backward(torch.tensor(g))
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-6, atol=1e-12)
    for (n, p), (_, q) in zip(ours.named_parameters(), theirs.named_parameters()):
        np.testing.assert_allclose(p.grad.numpy(), q.grad.numpy(), rtol=1e-6, atol=1e-12,
                                   err_msg=n)
    return yc


@pytest.mark.parametrize("shape", [(5, 4), (4,), (2, 3, 4)])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch(shape, bias):
    _matches_torch(np.random.default_rng(0).standard_normal(shape), bias)


def test_a_batch_first_view_of_a_time_major_input_is_read_in_place_and_matches_torch():
    """An LSTM's batch-first output is a transposed view: the layer multiplies its rows in
    memory order (no copy) and returns the same view of its output."""
    time_major = np.random.default_rng(0).standard_normal((6, 5, 4))
    y = _matches_torch(time_major, view=lambda t: t.transpose(0, 1))
    assert y.shape == (5, 6, 3)
    if not cr.backends.is_reference_enabled():    # the reference multiplies the view as it is
        assert y.detach().numpy().transpose(1, 0, 2).flags.c_contiguous


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


@pytest.mark.parametrize("call", [
    lambda x: nn.Linear(4, 3)(x), lambda x: F.linear(x, cr.zeros(3, 4)),
    lambda x: nn.Conv1d(4, 1, 1)(x), lambda x: F.dropout(x), lambda x: F.batch_norm(x, None, None, training=True),
])
def test_a_numpy_input_is_refused_naming_the_argument_and_the_fix(call):
    with pytest.raises(TypeError) as info:
        call(np.zeros((2, 4, 3)))
    message = str(info.value)
    assert "argument 'input' (position 1) must be Tensor, not numpy.ndarray" in message
    assert "cr.tensor(x)" in message and "cr.from_numpy(x)" in message


def test_linear_names_a_non_tensor_weight_or_bias():
    with pytest.raises(TypeError, match=r"argument 'weight' \(position 2\) must be Tensor, not numpy"):
        F.linear(cr.zeros(2, 4), np.zeros((3, 4)))
    with pytest.raises(TypeError, match=r"argument 'bias' \(position 3\) must be Tensor, not list"):
        F.linear(cr.zeros(2, 4), cr.zeros(3, 4), [0.0, 0.0, 0.0])


@pytest.mark.parametrize("dtype, torch_name", [(cr.float64, "Double"), (cr.int64, "Long")])
@pytest.mark.parametrize("shape", [(2, 4), (4,), (5, 2, 4)])
def test_linear_refuses_an_input_of_another_dtype_as_torch_does(dtype, torch_name, shape):
    torch = pytest.importorskip("torch")
    with pytest.raises(RuntimeError, match="same dtype"):
        torch.nn.Linear(4, 3)(torch.zeros(shape, dtype=getattr(torch, dtype.name)))
    with pytest.raises(RuntimeError) as info:
        nn.Linear(4, 3)(cr.zeros(*shape, dtype=dtype))
    assert (f"linear(): input and weight must have the same dtype, but got {torch_name} and Float"
            in str(info.value))
    assert "x.to(cr.float32)" in str(info.value)


def test_linear_refuses_a_bias_of_another_dtype_and_keeps_matching_dtypes():
    with pytest.raises(RuntimeError, match="bias and weight must have the same dtype, but got "
                                           "Float and Double"):
        F.linear(cr.zeros(2, 4, dtype=cr.float64), cr.zeros(3, 4, dtype=cr.float64), cr.zeros(3))
    assert nn.Linear(4, 3).double()(cr.zeros(2, 4, dtype=cr.float64)).dtype == cr.float64
