"""AdaptiveMaxPool1d/2d and F.adaptive_max_pool1d/2d against PyTorch: values, indices,
gradients (overlapping bins add up), float32 and float64, unbatched inputs, errors; gradcheck."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
import chainrule.nn.functional as F

from torch_compare import compare

torch = pytest.importorskip("torch")
rng = np.random.default_rng(0)


def distinct(*shape):
    """Well-separated values (no ties), so argmax is the same in both libraries."""
    n = int(np.prod(shape))
    return (rng.permutation(n) * 0.37 + rng.uniform(0, 0.05, n)).reshape(shape)


@pytest.mark.parametrize("shape,size", [((2, 3, 7), 3), ((2, 3, 7), 7), ((2, 3, 5), 8),
                                        ((3, 10), 4), ((2, 3, 6), 1)])
def test_1d_matches_torch(shape, size):
    out = compare(lambda x: F.adaptive_max_pool1d(x, size, return_indices=True),
                  lambda x: torch.nn.functional.adaptive_max_pool1d(x, size, return_indices=True),
                  [distinct(*shape)])
    assert out[1].dtype == cr.int64


@pytest.mark.parametrize("shape,size", [((2, 3, 7, 5), (3, 2)), ((1, 2, 5, 5), 2),
                                        ((2, 4, 6), (4, 5)), ((1, 1, 4, 9), (None, 4)),
                                        ((2, 2, 3, 3), 5)])
def test_2d_matches_torch(shape, size):
    x = distinct(*shape)
    compare(lambda x: F.adaptive_max_pool2d(x, size, return_indices=True),
            lambda x: torch.nn.functional.adaptive_max_pool2d(x, size, return_indices=True), [x])
    compare(lambda x: F.adaptive_max_pool2d(x, size),
            lambda x: torch.nn.functional.adaptive_max_pool2d(x, size), [x])


def test_modules_match_torch_in_float32():
    x = distinct(2, 3, 7, 6).astype(np.float32)
    for ours, theirs in ((nn.AdaptiveMaxPool2d((3, None), return_indices=True),
                          torch.nn.AdaptiveMaxPool2d((3, None), return_indices=True)),
                         (nn.AdaptiveMaxPool1d(4), torch.nn.AdaptiveMaxPool1d(4))):
        assert repr(ours) == repr(theirs)
        xin = x if isinstance(ours, nn.AdaptiveMaxPool2d) else x[:, :, 0]
        xc, xt = cr.tensor(xin, requires_grad=True), torch.tensor(xin, requires_grad=True)
        oc, ot = ours(xc), theirs(xt)
        oc, ot = (oc, ot) if isinstance(oc, tuple) else ((oc,), (ot,))
        assert oc[0].dtype == cr.float32
        np.testing.assert_array_equal(oc[0].detach().numpy(), ot[0].detach().numpy())
        for a, b in zip(oc[1:], ot[1:]):
            np.testing.assert_array_equal(a.numpy(), b.numpy())
        (oc[0] * 2).sum().backward()
        (ot[0] * 2).sum().backward()
        np.testing.assert_array_equal(xc.grad.numpy(), xt.grad.numpy())


def test_ties_and_nan_pick_what_torch_picks():
    x = np.array([[[1.0, np.nan, 3.0, 3.0, 0.0, 0.0]]])
    oc, ic = F.adaptive_max_pool1d(cr.tensor(x), 3, return_indices=True)
    ot, it = torch.nn.functional.adaptive_max_pool1d(torch.tensor(x), 3, return_indices=True)
    np.testing.assert_array_equal(oc.numpy(), ot.numpy())
    np.testing.assert_array_equal(ic.numpy(), it.numpy())


def test_gradcheck():
    x = cr.tensor(distinct(1, 2, 5, 4), requires_grad=True)
    assert cr.autograd.gradcheck(lambda x: F.adaptive_max_pool2d(x, (3, 3)), (x,))


def test_errors():
    with pytest.raises(RuntimeError, match="adaptive_max_pool2d: expected a 3-D"):
        F.adaptive_max_pool2d(cr.randn(4, 4), 2)
    with pytest.raises(RuntimeError, match="output_size must be positive"):
        F.adaptive_max_pool1d(cr.randn(1, 2, 4), 0)
    with pytest.raises(ValueError, match="output_size must be an int or a tuple of 2"):
        F.adaptive_max_pool2d(cr.randn(1, 2, 4, 4), (1, 2, 3))
