"""Max pooling's compiled kernels (chainrule.kernels.pooling_kernels) give MaxPool's NumPy
results bit for bit: the maxima, the winning offsets (hence PyTorch's indices) and the input
gradient, with ties, signed zeros, NaN and infinities in the input, negative (signed-zero) and
infinite upstream gradients, over window sizes, strides, paddings, dilations, ceil_mode, odd
sizes, empty batches and non-contiguous inputs, in float32 and float64."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import kernels
from chainrule.nn import functional as F

from bit_patterns import bits

pytest.importorskip("numba")
pytestmark = pytest.mark.skipif(not kernels.available(), reason="kernels off (CHAINRULE_KERNELS=0)")


def pool_both(x, upstream, spatial=2, **kw):
    """max_pool's output, indices and input gradient with the kernels and without."""
    pool = F.max_pool2d if spatial == 2 else F.max_pool1d
    results = []
    for use in (True, False):
        xt = cr.from_numpy(x).requires_grad_()
        with kernels.disabled() if not use else cr.backends.reference(False):
            y, idx = pool(xt, return_indices=True, **kw)
            y.backward(cr.from_numpy(upstream(y.shape)))
        results.append((y.detach().numpy(), idx.numpy(), xt.grad.numpy()))
    return results


def assert_bit_equal(with_kernels, without):
    for a, r in zip(with_kernels, without):
        assert a.dtype == r.dtype and a.shape == r.shape
        if a.dtype.kind == "f":
            np.testing.assert_array_equal(bits(a), bits(r))
        else:
            np.testing.assert_array_equal(a, r)


def tricky(shape, dtype, seed=0):
    """Rounded values (many tied maxima) with NaN, infinities and signed zeros scattered in."""
    rng = np.random.default_rng(seed)
    x = np.round(rng.standard_normal(shape) * 2).astype(dtype)
    flat = x.reshape(-1)
    for value in (np.nan, np.inf, -np.inf, -0.0, 0.0) if flat.size else ():
        flat[rng.integers(0, flat.size, size=max(1, flat.size // 15))] = value
    return x


WINDOWS = [
    dict(kernel_size=2),                                          # the 2x2 halving kernel
    dict(kernel_size=2, stride=1),                                # overlapping 2x2
    dict(kernel_size=3, stride=2, padding=1),
    dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
    dict(kernel_size=(3, 2), stride=(2, 1), dilation=(1, 2)),
    dict(kernel_size=(1, 4), stride=(1, 3)),                      # four offsets in a row
    dict(kernel_size=2, padding=1),
    dict(kernel_size=2, ceil_mode=True),                          # a window past the edge
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kw", WINDOWS)
@pytest.mark.parametrize("shape", [(2, 3, 7, 9), (1, 2, 8, 6), (0, 2, 6, 6)])
def test_max_pool_kernels_equal_numpy(shape, kw, dtype):
    x = tricky(shape, dtype)
    for upstream in (lambda s: np.random.default_rng(1).standard_normal(s).astype(dtype),
                     # negative entries leave -0.0 where they lose; an infinite one, +0.0
                     lambda s: np.full(s, np.inf, dtype)):
        assert_bit_equal(*pool_both(x, upstream, **kw))


def test_max_pool_kernels_take_a_non_contiguous_input_and_1d_pooling():
    x = tricky((2, 3, 10, 8), np.float32).transpose(0, 1, 3, 2)
    upstream = lambda s: np.random.default_rng(2).standard_normal(s).astype(np.float32)
    assert_bit_equal(*pool_both(x, upstream, kernel_size=2))
    assert_bit_equal(*pool_both(x[:, :, 0], upstream, spatial=1, kernel_size=3, stride=2))


def test_max_pool_gradient_lands_on_the_winner_only():
    x = np.array([[[[1.0, 3.0], [3.0, 2.0]]]], np.float32)    # a tie: the first 3 wins
    xt = cr.from_numpy(x).requires_grad_()
    F.max_pool2d(xt, 2).backward(cr.from_numpy(np.full((1, 1, 1, 1), -2.0, np.float32)))
    np.testing.assert_array_equal(xt.grad.numpy(), [[[[0.0, -2.0], [0.0, 0.0]]]])


def test_float16_takes_the_numpy_passes():
    """Numba compiles no float16 loops: such arrays keep MaxPool's and Conv's NumPy paths."""
    x = cr.from_numpy(tricky((2, 3, 6, 6), np.float16)).requires_grad_()
    y = F.max_pool2d(x, 2)
    y.backward(cr.from_numpy(np.ones(y.shape, np.float16)))
    w = cr.from_numpy(np.ones((2, 3, 3, 3), np.float16)).requires_grad_()
    z = F.conv2d(cr.from_numpy(np.ones((1, 3, 5, 5), np.float16)), w)
    z.sum().backward()
    assert y.dtype == cr.float16 and x.grad.dtype == cr.float16 and z.dtype == cr.float16
    np.testing.assert_array_equal(z.detach().numpy(), np.full((1, 2, 3, 3), 27, np.float16))
