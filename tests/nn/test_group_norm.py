"""GroupNorm and InstanceNorm1d/2d/3d (and F.group_norm / F.instance_norm) against PyTorch:
values, gradients, running statistics, errors; gradcheck in float64."""
import warnings

import numpy as np
import pytest

import chainrule as cr
from chainrule import nn
import chainrule.nn.functional as F

from torch_compare import compare, compare_modules

torch = pytest.importorskip("torch")
rng = np.random.default_rng(0)


@pytest.mark.parametrize("shape,groups", [((2, 6, 5), 3), ((3, 4, 2, 3), 2), ((2, 4), 4),
                                          ((2, 6, 2, 2, 2), 1)])
def test_group_norm_functional_matches_torch(shape, groups):
    c = shape[1]
    arrays = [rng.standard_normal(shape), rng.standard_normal(c), rng.standard_normal(c)]
    compare(lambda x, w, b: F.group_norm(x, groups, w, b, eps=1e-4),
            lambda x, w, b: torch.nn.functional.group_norm(x, groups, w, b, eps=1e-4), arrays)
    compare(lambda x: F.group_norm(x, groups), lambda x: torch.nn.functional.group_norm(x, groups),
            arrays[:1])


@pytest.mark.parametrize("affine", [True, False])
def test_group_norm_module_matches_torch(affine):
    compare_modules(nn.GroupNorm(2, 6, affine=affine), torch.nn.GroupNorm(2, 6, affine=affine),
                    [rng.standard_normal((3, 6, 4))])
    assert repr(nn.GroupNorm(2, 6)) == repr(torch.nn.GroupNorm(2, 6))


def test_group_norm_float32_matches_torch():
    x = rng.standard_normal((2, 6, 7)).astype(np.float32)
    m, t = nn.GroupNorm(3, 6), torch.nn.GroupNorm(3, 6)
    xc, xt = cr.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    yc, yt = m(xc), t(xt)
    assert yc.dtype == cr.float32
    np.testing.assert_allclose(yc.detach().numpy(), yt.detach().numpy(), rtol=1e-5, atol=1e-5)
    (yc * yc).sum().backward()
    (yt * yt).sum().backward()
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), rtol=1e-4, atol=1e-4)
    np.testing.assert_allclose(m.weight.grad.numpy(), t.weight.grad.numpy(), rtol=1e-4, atol=1e-4)


def test_group_norm_gradcheck():
    x = cr.tensor(rng.standard_normal((2, 4, 3)), requires_grad=True)
    w = cr.tensor(rng.standard_normal(4), requires_grad=True)
    b = cr.tensor(rng.standard_normal(4), requires_grad=True)
    assert cr.autograd.gradcheck(lambda x, w, b: F.group_norm(x, 2, w, b), (x, w, b))


def test_group_norm_errors():
    with pytest.raises(ValueError, match=r"num_channels \(6\) must be divisible by num_groups "
                                         r"\(4\)"):
        nn.GroupNorm(4, 6)
    with pytest.raises(RuntimeError, match="divisible by num_groups, but got input of shape "
                                           r"\[2, 6, 3\] and num_groups=4"):
        F.group_norm(cr.randn(2, 6, 3), 4)
    with pytest.raises(RuntimeError, match="group_norm: expected weight of shape"):
        F.group_norm(cr.randn(2, 6, 3), 3, cr.ones(4))


@pytest.mark.parametrize("cls,shape", [("InstanceNorm1d", (2, 3, 5)),
                                       ("InstanceNorm2d", (2, 3, 4, 3)),
                                       ("InstanceNorm3d", (2, 3, 2, 3, 2)),
                                       ("InstanceNorm1d", (3, 5)), ("InstanceNorm2d", (3, 4, 3))])
@pytest.mark.parametrize("affine", [True, False])
def test_instance_norm_module_matches_torch(cls, shape, affine):
    compare_modules(getattr(nn, cls)(3, affine=affine), getattr(torch.nn, cls)(3, affine=affine),
                    [rng.standard_normal(shape)])


@pytest.mark.parametrize("momentum", [0.1, None])
def test_instance_norm_running_stats_match_torch(momentum):
    m = nn.InstanceNorm2d(3, affine=True, track_running_stats=True, momentum=momentum)
    t = torch.nn.InstanceNorm2d(3, affine=True, track_running_stats=True, momentum=momentum)
    assert list(m.state_dict()) == list(t.state_dict())
    assert repr(m) == repr(t)
    m, t = m.double(), t.double()
    for _ in range(2):
        x = rng.standard_normal((4, 3, 3, 2)) * 2 + 1
        compare_modules(m, t, [x])
    for name in ("running_mean", "running_var"):
        np.testing.assert_allclose(getattr(m, name).numpy(), getattr(t, name).numpy(), rtol=1e-10)
    m.eval(), t.eval()
    compare_modules(m, t, [rng.standard_normal((2, 3, 3, 2))])


def test_instance_norm_functional_matches_torch():
    x, w, b = rng.standard_normal((2, 3, 6)), rng.standard_normal(3), rng.standard_normal(3)
    compare(lambda x, w, b: F.instance_norm(x, weight=w, bias=b, eps=1e-3),
            lambda x, w, b: torch.nn.functional.instance_norm(x, weight=w, bias=b, eps=1e-3),
            [x, w, b])
    rm, rv = rng.standard_normal(3), rng.random(3) + 0.5
    compare(lambda x: F.instance_norm(x, cr.tensor(rm), cr.tensor(rv), use_input_stats=False),
            lambda x: torch.nn.functional.instance_norm(x, torch.tensor(rm), torch.tensor(rv),
                                                        use_input_stats=False), [x])


def test_instance_norm_float32_and_gradcheck():
    x = rng.standard_normal((2, 3, 5)).astype(np.float32)
    y = nn.InstanceNorm1d(3)(cr.tensor(x))
    assert y.dtype == cr.float32
    np.testing.assert_allclose(y.numpy(), torch.nn.InstanceNorm1d(3)(torch.tensor(x)).numpy(),
                               rtol=1e-5, atol=1e-5)
    x64 = cr.tensor(rng.standard_normal((2, 2, 4)), requires_grad=True)
    w = cr.tensor(rng.standard_normal(2), requires_grad=True)
    assert cr.autograd.gradcheck(lambda x, w: F.instance_norm(x, weight=w), (x64, w))


def test_instance_norm_errors_and_warning():
    with pytest.raises(ValueError, match=r"expected 2D or 3D input \(got 4D input\)"):
        nn.InstanceNorm1d(3)(cr.randn(2, 3, 4, 5))
    with pytest.raises(ValueError, match="Expected more than 1 spatial element when training"):
        nn.InstanceNorm1d(3)(cr.randn(2, 3, 1))
    with pytest.raises(ValueError, match=r"to match num_features \(3\), but got: 4"):
        nn.InstanceNorm1d(3, affine=True)(cr.randn(2, 4, 5))
    with pytest.warns(UserWarning, match="does not match num_features"):
        nn.InstanceNorm1d(3)(cr.randn(2, 4, 5))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        nn.InstanceNorm1d(4)(cr.randn(2, 4, 5))
