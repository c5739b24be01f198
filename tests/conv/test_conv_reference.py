"""The reference twins of the convolution ops against their fast paths, where the op-case table
(tests/autograd, float64 and finite differences) cannot look: tied maxima and their indices,
inputs that need no gradient, float32, and an infinite upstream gradient."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import functional as F

pytestmark = pytest.mark.usefixtures("cpu_path")   # kernels and NumPy passes (conftest.py)


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def both_paths(fn, arrays, grads=None, dtype=cr.float64, upstream=None):
    """fn's outputs and input gradients on the fast path and on the reference path."""
    grads = [True] * len(arrays) if grads is None else grads
    results = []
    for reference in (False, True):
        xs = [cr.tensor(a, dtype=dtype, requires_grad=r) for a, r in zip(arrays, grads)]
        with cr.backends.reference(reference):
            out = fn(*xs)
            outs = out if isinstance(out, tuple) else (out,)
            w = rand(*outs[0].shape, seed=7) if upstream is None else upstream
            outs[0].backward(cr.tensor(w, dtype=dtype))
        results.append(([o.array for o in outs], [None if x.grad is None else x.grad.array
                                                  for x in xs], outs[0].grad_fn.name()))
    return results


def assert_paths_equal(fast, ref, rtol=0.0, atol=0.0):
    (f_out, f_grads, f_name), (r_out, r_grads, r_name) = fast, ref
    assert f_name == r_name
    for f, r in zip(f_out + f_grads, r_out + r_grads):
        assert (f is None) == (r is None)
        if f is not None:
            assert f.dtype == r.dtype and f.shape == r.shape
            np.testing.assert_allclose(f, r, rtol=rtol, atol=atol)


@pytest.mark.parametrize("kw", [dict(kernel_size=2), dict(kernel_size=2, stride=1),
                                dict(kernel_size=3, stride=2, padding=1, ceil_mode=True),
                                dict(kernel_size=(3, 2), stride=(2, 1), dilation=(1, 2))])
def test_max_pool_twin_sends_tied_maxima_to_the_first_like_the_fast_path(kw):
    ties = np.round(rand(2, 3, 7, 6))        # many windows hold their maximum twice
    fast, ref = both_paths(lambda x: F.max_pool2d(x, return_indices=True, **kw), [ties])
    assert_paths_equal(fast, ref)            # values, indices and gradients, bit for bit


def test_max_pool_twin_keeps_an_infinite_gradient_on_the_winner_only():
    upstream = np.ones((1, 1, 2, 2))
    upstream[0, 0, 0, 1] = np.inf
    fast, ref = both_paths(lambda x: F.max_pool2d(x, 2), [rand(1, 1, 4, 4)], upstream=upstream)
    assert_paths_equal(fast, ref)
    gx = ref[1][0]
    assert np.isnan(gx).sum() == 0 and np.isinf(gx).sum() == 1


@pytest.mark.parametrize("x_shape, w_shape, kw", [
    ((3, 6, 14, 14), (16, 6, 5, 5), {}),                      # batch-last
    ((2, 1, 12, 12), (4, 1, 5, 5), dict(padding=2)),          # flat frame per image
    ((2, 4, 9, 9), (6, 2, 3, 3), dict(stride=2, groups=2)),  # im2col, groups
])
@pytest.mark.parametrize("grads", [(False, True, True), (True, False, False)])
def test_conv_twin_matches_each_layout_with_some_inputs_frozen_in_float32(x_shape, w_shape,
                                                                          kw, grads):
    arrays = [rand(*x_shape), rand(*w_shape, seed=1), rand(w_shape[0], seed=2)]
    fast, ref = both_paths(lambda x, w, b: F.conv2d(x, w, b, **kw), arrays, grads, cr.float32)
    assert_paths_equal(fast, ref, rtol=1e-4, atol=1e-4)


def test_upsample_twin_matches_and_is_contiguous_like_the_fast_path():
    fast, ref = both_paths(lambda x: F.interpolate(x, scale_factor=(2, 3)), [rand(2, 3, 4, 5)])
    assert_paths_equal(fast, ref, rtol=1e-12)
    assert fast[0][0].flags.c_contiguous and ref[0][0].flags.c_contiguous
