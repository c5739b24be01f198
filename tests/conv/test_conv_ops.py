"""Convolution, pooling, fold/unfold and upsampling against PyTorch (float64, forward and every
gradient) and against finite differences."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.nn import functional as F
from torch_compare import compare

torch = pytest.importorskip("torch")
TF = torch.nn.functional


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


CONV2D = [
    dict(stride=1, padding=0, dilation=1, groups=1),
    dict(stride=2, padding=1, dilation=1, groups=1),
    dict(stride=(2, 1), padding=(0, 2), dilation=(1, 2), groups=1),
    dict(stride=1, padding="same", dilation=2, groups=1),
    dict(stride=1, padding="valid", dilation=1, groups=2),
    dict(stride=3, padding=2, dilation=1, groups=4),
]


@pytest.mark.parametrize("cfg", CONV2D)
@pytest.mark.parametrize("bias", [True, False])
def test_conv2d_matches_torch(cfg, bias):
    g = cfg["groups"]
    arrays = [rand(2, 4, 9, 8), rand(4, 4 // g, 3, 2, seed=1)] + ([rand(4, seed=2)] if bias else [])
    compare(lambda x, w, *b: F.conv2d(x, w, b[0] if b else None, **cfg),
            lambda x, w, *b: TF.conv2d(x, w, b[0] if b else None, **cfg), arrays)


def test_lecture_demo_3_channels_two_filters_stride2_pad1():
    """The lecture's demo: a 5x5x3 input, two 3x3x3 filters, stride 2, padding 1 -> 3x3x2."""
    x, w, b = rand(1, 3, 5, 5), rand(2, 3, 3, 3, seed=1), rand(2, seed=2)
    out = compare(lambda x, w, b: F.conv2d(x, w, b, stride=2, padding=1),
                  lambda x, w, b: TF.conv2d(x, w, b, stride=2, padding=1), [x, w, b])[0]
    assert tuple(out.shape) == (1, 2, 3, 3)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    manual = sum(xp[0, :, 2:5, 2:5][c] * w[1, c] for c in range(3)).sum() + b[1]
    assert np.isclose(out.array[0, 1, 1, 1], manual)


@pytest.mark.parametrize("cfg", [dict(stride=1, padding=0), dict(stride=2, padding=2, dilation=2),
                                 dict(padding="same", groups=3), dict(stride=3, padding=1)])
def test_conv1d_matches_torch(cfg):
    g = cfg.get("groups", 1)
    arrays = [rand(3, 6, 11), rand(6, 6 // g, 3, seed=1), rand(6, seed=2)]
    compare(lambda x, w, b: F.conv1d(x, w, b, **cfg), lambda x, w, b: TF.conv1d(x, w, b, **cfg),
            arrays)


@pytest.mark.filterwarnings("ignore:Using padding='same'")
def test_conv2d_unbatched_and_even_same_padding():
    arrays = [rand(2, 6, 7), rand(3, 2, 4, 2, seed=1)]
    compare(lambda x, w: F.conv2d(x, w, padding="same"),
            lambda x, w: TF.conv2d(x, w, padding="same"), arrays)


@pytest.mark.parametrize("cfg", [dict(stride=1), dict(stride=2, padding=1, output_padding=1),
                                 dict(stride=(2, 3), padding=(0, 1), dilation=(2, 1)),
                                 dict(stride=2, groups=2)])
def test_conv_transpose2d_matches_torch(cfg):
    g = cfg.get("groups", 1)
    arrays = [rand(2, 4, 5, 4), rand(4, 6 // g, 3, 3, seed=1), rand(6, seed=2)]
    compare(lambda x, w, b: F.conv_transpose2d(x, w, b, **cfg),
            lambda x, w, b: TF.conv_transpose2d(x, w, b, **cfg), arrays)


def test_conv_transpose1d_matches_torch():
    arrays = [rand(2, 3, 6), rand(3, 2, 4, seed=1)]
    compare(lambda x, w: F.conv_transpose1d(x, w, stride=3, padding=1),
            lambda x, w: TF.conv_transpose1d(x, w, stride=3, padding=1), arrays)


MAXPOOL = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
           dict(kernel_size=3, stride=2, ceil_mode=True), dict(kernel_size=(2, 3), stride=1),
           dict(kernel_size=2, stride=2, dilation=2, padding=1, ceil_mode=True)]


@pytest.mark.parametrize("cfg", MAXPOOL)
def test_max_pool2d_matches_torch(cfg):
    compare(lambda x: F.max_pool2d(x, **cfg), lambda x: TF.max_pool2d(x, **cfg), [rand(2, 3, 7, 8)])


def test_max_pool2d_ties_go_to_first_and_indices_match():
    x = np.zeros((1, 2, 4, 4))
    x[0, 1, 1:3, 1:3] = 5.0
    compare(lambda x: F.max_pool2d(x, 2, 1), lambda x: TF.max_pool2d(x, 2, 1), [x])
    a = rand(2, 3, 7, 8)
    _, ic = F.max_pool2d(cr.tensor(a), 3, 2, 1, return_indices=True)
    _, it = TF.max_pool2d(torch.tensor(a), 3, 2, 1, return_indices=True)
    np.testing.assert_array_equal(ic.array, it.numpy())


@pytest.mark.parametrize("cfg", [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1,
                                                            ceil_mode=True)])
def test_max_pool1d_matches_torch(cfg):
    compare(lambda x: F.max_pool1d(x, **cfg), lambda x: TF.max_pool1d(x, **cfg), [rand(2, 3, 9)])


AVGPOOL = [dict(kernel_size=2), dict(kernel_size=3, stride=2, padding=1),
           dict(kernel_size=3, stride=2, padding=1, count_include_pad=False),
           dict(kernel_size=3, stride=2, ceil_mode=True),
           dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=True),
           dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
           dict(kernel_size=(2, 3), stride=1, divisor_override=4)]


@pytest.mark.parametrize("cfg", AVGPOOL)
def test_avg_pool2d_matches_torch(cfg):
    compare(lambda x: F.avg_pool2d(x, **cfg), lambda x: TF.avg_pool2d(x, **cfg), [rand(2, 3, 8, 7)])


def test_avg_pool1d_matches_torch():
    cfg = dict(kernel_size=3, stride=2, padding=1, ceil_mode=True, count_include_pad=False)
    compare(lambda x: F.avg_pool1d(x, **cfg), lambda x: TF.avg_pool1d(x, **cfg), [rand(2, 3, 10)])


@pytest.mark.parametrize("size", [1, 3, (2, 5), (None, 4), (7, 6)])
def test_adaptive_avg_pool2d_matches_torch(size):
    compare(lambda x: F.adaptive_avg_pool2d(x, size), lambda x: TF.adaptive_avg_pool2d(x, size),
            [rand(2, 3, 7, 6)])


def test_adaptive_avg_pool1d_matches_torch():
    compare(lambda x: F.adaptive_avg_pool1d(x, 4), lambda x: TF.adaptive_avg_pool1d(x, 4),
            [rand(2, 3, 10)])


@pytest.mark.parametrize("cfg", [dict(kernel_size=2), dict(kernel_size=(2, 3), dilation=(1, 2),
                                                            padding=1, stride=2)])
def test_unfold_fold_match_torch(cfg):
    compare(lambda x: F.unfold(x, **cfg), lambda x: TF.unfold(x, **cfg), [rand(2, 3, 6, 7)])
    L = TF.unfold(torch.zeros(2, 3, 6, 7), **cfg).shape[-1]
    compare(lambda c: F.fold(c, (6, 7), **cfg), lambda c: TF.fold(c, (6, 7), **cfg),
            [rand(2, 3 * int(np.prod(np.broadcast_to(cfg["kernel_size"], 2))), L)])


@pytest.mark.parametrize("kw", [dict(scale_factor=2), dict(scale_factor=(2, 3)), dict(size=(5, 9)),
                                dict(size=(3, 2)), dict(scale_factor=1.5)])
def test_interpolate_nearest_matches_torch(kw):
    compare(lambda x: F.interpolate(x, **kw), lambda x: TF.interpolate(x, **kw), [rand(2, 3, 4, 5)])


def test_interpolate_1d_matches_torch():
    compare(lambda x: F.interpolate(x, scale_factor=3), lambda x: TF.interpolate(x, scale_factor=3),
            [rand(2, 3, 4)])


def test_gradcheck_conv_and_pools():
    x = cr.tensor(rand(1, 2, 5, 5), dtype=cr.float64, requires_grad=True)
    w = cr.tensor(rand(2, 1, 3, 2, seed=1), dtype=cr.float64, requires_grad=True)
    b = cr.tensor(rand(2, seed=2), dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradcheck(lambda x, w, b: F.conv2d(x, w, b, 2, 1, 1, 2), (x, w, b))
    wt = cr.tensor(rand(2, 1, 2, 2, seed=3), dtype=cr.float64, requires_grad=True)
    assert cr.autograd.gradcheck(lambda x, w: F.conv_transpose2d(x, w, stride=2, padding=1),
                                 (x, wt))
    assert cr.autograd.gradcheck(lambda x: F.max_pool2d(x, 3, 2, 1, ceil_mode=True), (x,))
    assert cr.autograd.gradcheck(lambda x: F.avg_pool2d(x, 2, 2, 1, count_include_pad=False),
                                 (x,))
    assert cr.autograd.gradcheck(lambda x: F.adaptive_avg_pool2d(x, 3), (x,))
    assert cr.autograd.gradcheck(lambda x: F.fold(F.unfold(x, 2, padding=1), (5, 5), 2, padding=1),
                                 (x,))
    assert cr.autograd.gradcheck(lambda x: F.interpolate(x, size=(7, 3)), (x,))


def test_float32_stays_float32():
    x = cr.randn(2, 3, 8, 8)
    w = cr.randn(4, 3, 3, 3, requires_grad=True)
    y = F.max_pool2d(F.conv2d(x, w, padding=1), 2)
    assert y.dtype == cr.float32
    y.sum().backward()
    assert w.grad.dtype == cr.float32


def test_bad_inputs_raise_clear_errors():
    x = cr.randn(2, 3, 8, 8)
    with pytest.raises(RuntimeError, match="expected input\\[2, 3, 8, 8\\] to have 4 channels"):
        F.conv2d(x, cr.randn(5, 4, 3, 3))
    with pytest.raises(RuntimeError, match="kernel"):
        F.conv2d(x, cr.randn(5, 3, 9, 9))
    with pytest.raises(ValueError, match="strided"):
        F.conv2d(x, cr.randn(5, 3, 3, 3), stride=2, padding="same")
    with pytest.raises(RuntimeError, match="pad should be at most half"):
        F.max_pool2d(x, 2, padding=2)
    with pytest.raises(RuntimeError, match="4-D"):
        F.conv2d(cr.randn(8, 8), cr.randn(5, 3, 3, 3))
