"""F.interpolate / nn.Upsample in every mode against PyTorch: values and gradients (float64),
float32 values, align_corners both ways, size and scale_factor (up and down, fractional,
recompute_scale_factor), errors; gradcheck in float64."""
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
import chainrule.nn.functional as F

from torch_compare import compare

torch = pytest.importorskip("torch")
rng = np.random.default_rng(0)

SHAPES = {"linear": (2, 3, 5), "bilinear": (2, 2, 4, 5), "bicubic": (1, 2, 5, 4),
          "trilinear": (1, 2, 3, 4, 3)}
RESIZES = [dict(scale_factor=2), dict(scale_factor=1.7), dict(scale_factor=0.6),
           dict(size=7), dict(size=3), dict(size=1),
           dict(scale_factor=1.7, recompute_scale_factor=True)]


def _name(resize):
    return "-".join(f"{k}={v}" for k, v in resize.items())


@pytest.mark.parametrize("mode", sorted(SHAPES))
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("resize", RESIZES, ids=_name)
def test_interpolating_modes_match_torch(mode, align_corners, resize):
    x = rng.standard_normal(SHAPES[mode])
    kw = dict(mode=mode, align_corners=align_corners, **resize)
    compare(lambda x: F.interpolate(x, **kw), lambda x: torch.nn.functional.interpolate(x, **kw),
            [x], rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "area"])
@pytest.mark.parametrize("shape", [(2, 3, 7), (1, 2, 5, 6), (1, 2, 3, 4, 5)])
@pytest.mark.parametrize("resize", RESIZES, ids=_name)
def test_nearest_and_area_match_torch(mode, shape, resize):
    x = rng.standard_normal(shape)
    compare(lambda x: F.interpolate(x, mode=mode, **resize),
            lambda x: torch.nn.functional.interpolate(x, mode=mode, **resize), [x])


@pytest.mark.parametrize("mode,align_corners", [("bilinear", False), ("bilinear", True),
                                                ("bicubic", False), ("bicubic", True),
                                                ("nearest-exact", None)])
def test_float32_matches_torch(mode, align_corners):
    x = rng.standard_normal((2, 3, 6, 5)).astype(np.float32)
    kw = dict(size=(9, 4), mode=mode, align_corners=align_corners)
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yc, yt = F.interpolate(xc, **kw), torch.nn.functional.interpolate(xt, **kw)
    assert yc.dtype == cr.float32
    np.testing.assert_allclose(yc.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    g = rng.standard_normal(tuple(yc.shape)).astype(np.float32)
    (yc * cr.tensor(g)).sum().backward()
    (yt * torch.tensor(g)).sum().backward()
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("mode,align_corners", [("bilinear", False), ("bicubic", True),
                                                ("trilinear", False), ("area", None)])
def test_gradcheck(mode, align_corners):
    shape = (1, 1, 2, 3, 2) if mode == "trilinear" else (1, 2, 3, 3)
    x = cr.tensor(rng.standard_normal(shape), requires_grad=True)
    assert cr.autograd.gradcheck(
        lambda x: F.interpolate(x, scale_factor=1.5, mode=mode, align_corners=align_corners), (x,))


@pytest.mark.parametrize("mode,align_corners,scale", [("bilinear", True, 2), ("bicubic", False, 2),
                                                      ("nearest-exact", None, 3),
                                                      ("trilinear", None, (1, 2, 2))])
def test_upsample_module_matches_torch(mode, align_corners, scale):
    x = rng.standard_normal((1, 2, 3, 4, 3) if mode == "trilinear" else (1, 2, 3, 4))
    m = nn.Upsample(scale_factor=scale, mode=mode, align_corners=align_corners)
    t = torch.nn.Upsample(scale_factor=scale, mode=mode, align_corners=align_corners)
    assert repr(m) == repr(t)
    compare(m, t, [x])


def test_upsampling_bilinear2d_matches_torch():
    x = rng.standard_normal((1, 2, 3, 4))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        compare(nn.UpsamplingBilinear2d(scale_factor=2),
                torch.nn.UpsamplingBilinear2d(scale_factor=2), [x])


@pytest.mark.parametrize("args,kw,error", [
    ((cr.randn(1, 2, 3),), dict(size=4, mode="bilinear"), NotImplementedError),
    ((cr.randn(1, 2, 3, 3),), dict(size=4, mode="linear"), NotImplementedError),
    ((cr.randn(2, 3),), dict(size=4, mode="linear"), NotImplementedError),
    ((cr.randn(1, 2, 3, 3),), dict(size=4, mode="nearest", align_corners=True), ValueError),
    ((cr.randn(1, 2, 3, 3),), dict(size=4, scale_factor=2), ValueError),
    ((cr.randn(1, 2, 3, 3),), dict(), ValueError),
    ((cr.randn(1, 2, 3, 3),), dict(size=(4, 4, 4)), ValueError),
    ((cr.randn(1, 2, 3, 3),), dict(size=4, recompute_scale_factor=True), ValueError),
    ((cr.randn(1, 2, 3, 3),), dict(size=4.5), TypeError)])
def test_errors_as_torch(args, kw, error):
    with pytest.raises(error):
        F.interpolate(*args, **kw)
    t_args = [torch.tensor(a.numpy()) for a in args]
    kw_t = {k: (v if not (k == "size" and isinstance(v, float)) else (v, v)) for k, v in kw.items()}
    with pytest.raises(error):
        torch.nn.functional.interpolate(*t_args, **kw_t)
