"""ReLU's forward on large float arrays runs block by block against a zeros block; it must equal
NumPy's maximum(a, 0) exactly, NaN and infinities included, at every size around the blocks."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.ops.activation import ReLU


@pytest.mark.parametrize("n", [8191, 8192, ReLU._BLOCK, ReLU._BLOCK + 1, 3 * ReLU._BLOCK - 5])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_blocked_relu_equals_maximum(n, dtype):
    a = np.random.default_rng(n).standard_normal(n).astype(dtype)
    a[:6] = [np.nan, -np.inf, np.inf, -0.0, 0.0, -1.0]
    out = ReLU.positive_part(a)
    assert out.dtype == dtype and out.shape == a.shape
    np.testing.assert_array_equal(out, np.maximum(a, 0))


def test_blocked_relu_keeps_shape_and_backward():
    x = cr.tensor(np.random.default_rng(0).standard_normal((300, 257)), requires_grad=True)
    y = cr.relu(x)
    np.testing.assert_array_equal(y.array, np.maximum(x.array, 0))
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.array, (x.array > 0).astype(x.array.dtype))


def test_noncontiguous_input_takes_the_plain_path():
    a = np.random.default_rng(1).standard_normal((300, 300)).T
    np.testing.assert_array_equal(ReLU.positive_part(a), np.maximum(a, 0))
