"""Dropout1d/2d/3d on inputs of every rank, as PyTorch 2.13: the same warnings, the same
channels dropped together (one draw per (sample, channel) of what feature dropout sees)."""
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
import chainrule.nn.functional as F

torch = pytest.importorskip("torch")


def _messages(fn, x):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            fn(x)
        except RuntimeError as e:
            return [str(w.message) for w in caught], type(e)
    return [str(w.message) for w in caught], None


def _constant_over(y, axes):
    """Whether y is constant along ``axes`` (the dims a channel mask broadcasts over)."""
    return all(np.all(np.take(y, [0], axis=a) == y) for a in axes)


# at least 16 draws each, and seeded, so that both values (0 and 2) appear
CASES = [("dropout1d", (4, 5, 3)), ("dropout1d", (16, 3)),
         ("dropout2d", (4, 5, 3, 3)), ("dropout2d", (6, 3, 3)), ("dropout2d", (40, 6)),
         ("dropout2d", (4, 5, 2, 2, 2)),
         ("dropout3d", (4, 5, 2, 2, 2)), ("dropout3d", (16, 2, 2, 2)), ("dropout3d", (16, 3, 4)),
         ("dropout3d", (20, 6)), ("dropout3d", (30,))]


@pytest.mark.parametrize("name,shape", CASES)
def test_warnings_and_mask_shape_match_torch(name, shape):
    ours, theirs = getattr(F, name), getattr(torch.nn.functional, name)
    assert _messages(ours, cr.ones(*shape)) == _messages(theirs, torch.ones(*shape))
    cr.manual_seed(1)
    torch.manual_seed(1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yc = ours(cr.ones(*shape), 0.5).numpy()
        yt = theirs(torch.ones(*shape), 0.5).numpy()
    assert set(np.unique(yc)) <= {0.0, 2.0} and 0.0 in yc and 2.0 in yc
    for axes in [tuple(range(k, len(shape))) for k in range(len(shape) + 1)]:
        assert _constant_over(yc, axes) == _constant_over(yt, axes), axes


@pytest.mark.parametrize("name,shape", [("dropout2d", (3,)), ("dropout1d", (3,)),
                                        ("dropout1d", (2, 3, 4, 5))])
def test_unsupported_ranks_raise_as_torch(name, shape):
    ours, theirs = getattr(F, name), getattr(torch.nn.functional, name)
    assert _messages(ours, cr.ones(*shape))[1] is RuntimeError
    assert _messages(theirs, torch.ones(*shape))[1] is RuntimeError


def test_module_on_2d_input_warns_and_drops_elements_with_their_gradient():
    cr.manual_seed(0)
    x = cr.ones(50, 8, requires_grad=True)
    with pytest.warns(UserWarning, match="Received a 2-D input to dropout2d"):
        y = nn.Dropout2d(0.5)(x)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), y.detach().numpy())
    assert not _constant_over(y.detach().numpy(), (1,))   # elements, not whole rows
    with pytest.warns(UserWarning):
        assert nn.Dropout2d(0.5).eval()(x) is x


def test_dropout2d_3d_input_drops_channels_of_each_sample():
    cr.manual_seed(1)
    with pytest.warns(UserWarning, match="interpreted as shape \\(N, C, L\\)"):
        y = F.dropout2d(cr.ones(30, 4, 5)).numpy()
    assert _constant_over(y, (2,)) and not _constant_over(y, (1, 2))
