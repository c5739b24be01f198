"""Padding layers and PixelShuffle/PixelUnshuffle (fast_neural_style, super_resolution) against PyTorch."""
import numpy as np
import pytest

import chainrule as cr
from torch_compare import compare, compare_modules

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("name,padding,shape", [
    ("ReflectionPad2d", 2, (2, 3, 5, 6)), ("ReflectionPad2d", (1, 0, 2, 1), (3, 4, 4)),
    ("ReflectionPad1d", (2, 1), (2, 3, 5)), ("ReplicationPad2d", (0, 2, 1, 3), (1, 2, 3, 3)),
    ("ReplicationPad1d", 3, (2, 4)), ("ZeroPad2d", (1, 2, 0, 1), (1, 1, 2, 2)),
    ("ZeroPad1d", 1, (1, 2, 3)), ("ConstantPad2d", 1, (1, 2, 2, 2))])
def test_padding_layers_match_pytorch(name, padding, shape):
    args = (padding, 3.5) if name.startswith("Constant") else (padding,)
    ours, theirs = getattr(cr.nn, name)(*args), getattr(torch.nn, name)(*args)
    compare_modules(ours, theirs, [np.random.default_rng(0).standard_normal(shape)])
    assert repr(ours) == repr(theirs)


def test_padding_errors():
    with pytest.raises(ValueError, match="ReflectionPad2d: padding must be"):
        cr.nn.ReflectionPad2d((1, 2, 3))
    with pytest.raises(ValueError, match="ReflectionPad2d: expected 3D or 4D"):
        cr.nn.ReflectionPad2d(1)(cr.zeros(4, 4))
    with pytest.raises(ValueError, match="reflect"):
        cr.nn.ReflectionPad2d(3)(cr.zeros(1, 1, 3, 3))       # padding must be smaller than the size


@pytest.mark.parametrize("shape,r", [((1, 8, 3, 3), 2), ((2, 9, 2, 4), 3), ((4, 3, 2), 1), ((2, 1, 18, 2, 3), 3)])
def test_pixel_shuffle_and_unshuffle_match_pytorch(shape, r):
    a = np.random.default_rng(1).standard_normal(shape)
    F, TF = cr.nn.functional, torch.nn.functional
    shuffled = compare(lambda x: F.pixel_shuffle(x, r), lambda x: TF.pixel_shuffle(x, r), [a])[0]
    back = shuffled.detach().numpy()
    compare(lambda x: F.pixel_unshuffle(x, r), lambda x: TF.pixel_unshuffle(x, r), [back])
    np.testing.assert_array_equal(F.pixel_unshuffle(cr.tensor(back), r).numpy(), a)
    assert repr(cr.nn.PixelShuffle(r)) == repr(torch.nn.PixelShuffle(r))
    assert repr(cr.nn.PixelUnshuffle(r)) == repr(torch.nn.PixelUnshuffle(r))


def test_pixel_shuffle_errors_like_pytorch():
    for fn, shape, match in [("pixel_shuffle", (1, 5, 2, 2), "divisible by 4"),
                             ("pixel_unshuffle", (1, 1, 3, 4), "divisible by downscale_factor")]:
        with pytest.raises(RuntimeError, match=match):
            getattr(cr.nn.functional, fn)(cr.zeros(*shape), 2)
        with pytest.raises(RuntimeError):
            getattr(torch.nn.functional, fn)(torch.zeros(*shape), 2)
    with pytest.raises(RuntimeError, match="pixel_shuffle: expected an input of at least 3"):
        cr.nn.functional.pixel_shuffle(cr.zeros(4, 4), 2)
