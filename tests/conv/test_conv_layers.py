"""Conv, pooling, upsampling and fold layers against PyTorch: weights copied through state_dict
(keys must match), float64 outputs and every gradient (inputs and parameters)."""
import numpy as np
import pytest

import chainrule as cr
from chainrule.nn.conv import Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d
from chainrule.nn.fold import Fold, Unfold
from chainrule.nn.pooling import (AdaptiveAvgPool1d, AdaptiveAvgPool2d, AvgPool1d, AvgPool2d,
                                  MaxPool1d, MaxPool2d)
from chainrule.nn.upsampling import Upsample
from torch_compare import compare_modules

torch = pytest.importorskip("torch")
tnn = torch.nn


def rand(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("args,kw", [
    ((3, 4, 3), {}),
    ((4, 6, (3, 2)), dict(stride=2, padding=1, dilation=(2, 1), groups=2)),
    ((3, 5, 4), dict(padding="same", bias=False)),
    ((3, 4, 3), dict(padding=2, padding_mode="reflect")),
    ((3, 4, 3), dict(padding=1, padding_mode="circular")),
    ((3, 4, 3), dict(padding="same", padding_mode="replicate")),
])
def test_conv2d_layer(args, kw):
    x = rand(2, args[0], 7, 8)
    compare_modules(Conv2d(*args, **kw), tnn.Conv2d(*args, **kw), [x])


@pytest.mark.parametrize("kw", [{}, dict(stride=2, padding=1, groups=3), dict(padding="same")])
def test_conv1d_layer(kw):
    compare_modules(Conv1d(3, 6, 3, **kw), tnn.Conv1d(3, 6, 3, **kw), [rand(2, 3, 9)])


@pytest.mark.parametrize("kw", [{}, dict(stride=2, padding=1, output_padding=1),
                                dict(stride=2, groups=2, bias=False, dilation=2)])
def test_conv_transpose2d_layer(kw):
    compare_modules(ConvTranspose2d(4, 6, 3, **kw), tnn.ConvTranspose2d(4, 6, 3, **kw),
                    [rand(2, 4, 5, 4)])


def test_conv_transpose_output_size():
    x = rand(1, 2, 4, 4)
    m, t = ConvTranspose2d(2, 3, 3, stride=2, padding=1), tnn.ConvTranspose2d(2, 3, 3, stride=2,
                                                                              padding=1)

    class WithSize(cr.nn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return self.inner(x, output_size=(8, 8))

    class TWithSize(tnn.Module):
        def __init__(self, inner):
            super().__init__()
            self.inner = inner

        def forward(self, x):
            return self.inner(x, output_size=(8, 8))
    out, _ = compare_modules(WithSize(m), TWithSize(t), [x])
    assert tuple(out[0].shape) == (1, 3, 8, 8)
    compare_modules(ConvTranspose1d(2, 3, 4, stride=2), tnn.ConvTranspose1d(2, 3, 4, stride=2),
                    [rand(2, 2, 5)])


@pytest.mark.parametrize("make", [
    lambda nn: nn.MaxPool2d(2),
    lambda nn: nn.MaxPool2d(3, 2, 1, ceil_mode=True),
    lambda nn: nn.AvgPool2d(3, 2, 1, ceil_mode=True, count_include_pad=False),
    lambda nn: nn.AvgPool2d(2, divisor_override=3),
    lambda nn: nn.AdaptiveAvgPool2d((3, 2)),
    lambda nn: nn.AdaptiveAvgPool2d(1),
    lambda nn: nn.Upsample(scale_factor=2),
    lambda nn: nn.Upsample(size=(5, 11)),
])
def test_pool_and_upsample_layers(make):
    import types
    mine = types.SimpleNamespace(MaxPool2d=MaxPool2d, AvgPool2d=AvgPool2d,
                                 AdaptiveAvgPool2d=AdaptiveAvgPool2d, Upsample=Upsample)
    compare_modules(make(mine), make(tnn), [rand(2, 3, 7, 6)])


def test_1d_pool_layers_and_fold():
    x = rand(2, 3, 10)
    compare_modules(MaxPool1d(3, 2, 1), tnn.MaxPool1d(3, 2, 1), [x])
    compare_modules(AvgPool1d(3, 2, ceil_mode=True), tnn.AvgPool1d(3, 2, ceil_mode=True), [x])
    compare_modules(AdaptiveAvgPool1d(4), tnn.AdaptiveAvgPool1d(4), [x])
    compare_modules(Unfold(2, padding=1), tnn.Unfold(2, padding=1), [rand(2, 3, 4, 5)])
    compare_modules(Fold((4, 5), 2, padding=1), tnn.Fold((4, 5), 2, padding=1),
                    [rand(2, 12, 30)])


