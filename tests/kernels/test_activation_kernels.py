"""ReLU's compiled kernels (chainrule.kernels.activation_kernels) equal the NumPy code they
replace bit for bit: signed zeros, NaN and infinities included, in float32 and float64."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import kernels
from chainrule.ops.activation import ReLU

from bit_patterns import bits

pytest.importorskip("numba")


SPECIALS = [np.nan, -np.inf, np.inf, -0.0, 0.0, -1.0, 1e-45, -1e-45]


def _arrays(n, dtype, seed=0):
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(n).astype(dtype)
    g = rng.standard_normal(n).astype(dtype)
    a[:len(SPECIALS)] = SPECIALS[:n]
    g[len(SPECIALS):2 * len(SPECIALS)] = SPECIALS[:max(0, n - len(SPECIALS))]
    return a, g


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n", [0, 1, 17, ReLU._KERNEL_MIN, ReLU._KERNEL_MIN + 3, 70001])
def test_relu_kernels_equal_numpy(n, dtype):
    a, g = _arrays(n, dtype, seed=n)
    out = kernels.elementwise("relu_forward", a)
    assert out.dtype == dtype and out.shape == a.shape
    np.testing.assert_array_equal(bits(out), bits(np.maximum(0, a)))
    gx = kernels.elementwise("relu_backward", g, out, scalars=(0,))
    assert gx.dtype == dtype
    expected = np.where(out > 0, g, 0).astype(dtype)
    np.testing.assert_array_equal(bits(gx), bits(expected))


def test_gradient_on_zero_output_is_an_exact_positive_zero_even_for_inf_and_nan():
    out = np.zeros(ReLU._KERNEL_MIN, np.float32)
    g = np.full_like(out, -2.0)
    g[0], g[1] = np.inf, np.nan
    gx = kernels.elementwise("relu_backward", g, out, scalars=(0,))
    assert (gx == 0).all() and not np.signbit(gx).any()


def test_relu_op_with_kernels_equals_relu_without():
    rng = np.random.default_rng(3)
    x_np = rng.standard_normal((64, 513)).astype(np.float32)   # above the kernels' size
    up = rng.standard_normal((64, 513)).astype(np.float32)
    results = []
    for use in (True, False):
        x = cr.from_numpy(x_np.copy()).requires_grad_()
        if use:
            y = cr.relu(x)
            y.backward(cr.from_numpy(up))
        else:
            with kernels.disabled():
                y = cr.relu(x)
                y.backward(cr.from_numpy(up))
        results.append((y.detach().numpy(), x.grad.numpy()))
    for a, b in zip(*results):
        np.testing.assert_array_equal(bits(a), bits(b))


def test_layouts_the_kernels_cannot_take_fall_back():
    a = np.random.default_rng(1).standard_normal((300, 300)).T     # not C-contiguous
    assert kernels.elementwise("relu_forward", a) is None
    assert kernels.elementwise("relu_backward", a, np.ascontiguousarray(a)) is None
    b = np.ones(20000, np.float32)
    assert kernels.elementwise("relu_backward", b, b.astype(np.float64)) is None  # mixed dtypes
    assert kernels.elementwise("relu_forward", b.astype(np.int64)) is None        # not float
    assert kernels.elementwise("relu_forward", b, min_size=b.size + 1) is None
    x = cr.from_numpy(a).requires_grad_()
    cr.relu(x).sum().backward()                      # the op still works: NumPy's path
    np.testing.assert_array_equal(x.grad.numpy(), (a > 0).astype(a.dtype))


@pytest.mark.parametrize("rows, cols", [(1, 7), (5, 33), (300, 257)])   # the last: parallel
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_bias_relu_equals_bias_then_relu(rows, cols, dtype):
    """The compiled inference replay's fused Linear -> ReLU pass (ops.linear.linear_relu)."""
    rng = np.random.default_rng(rows)
    y = rng.standard_normal((rows, cols)).astype(dtype)
    y[0, :3] = [np.nan, -0.0, 0.0]
    b = rng.standard_normal(cols).astype(dtype)
    b[:3] = [0.0, 0.0, -0.0]
    expected = np.maximum(0, y + b)
    fused = y.copy()
    kernels.get("bias_relu", fused.size)(fused, b)
    np.testing.assert_array_equal(fused.view(np.uint8), expected.view(np.uint8))
