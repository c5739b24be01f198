"""Cross-entropy's row kernels (chainrule.kernels.loss_kernels) equal the NumPy code they replace
bit for bit: NaN and infinite logits, float32 and float64, odd sizes, strided logits; the
losses and gradients of ``cross_entropy`` are the same with the kernels and without."""
import numpy as np
import pytest

import chainrule as cr
import chainrule.nn.functional as F
from chainrule import kernels

from bit_patterns import bits

pytest.importorskip("numba")


def _logits(shape, dtype, seed=0, specials=True):
    x = (np.random.default_rng(seed).standard_normal(shape) * 4).astype(dtype)
    if specials and x.shape[0] >= 4 and x.shape[1] >= 2:
        x[0, 1] = np.nan
        x[1, :] = -np.inf
        x[2, 0] = np.inf
        x[3, :] = 0.0
    return x


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1), (5, 3), (7, 1), (2048, 65), (33, 1000)])
def test_minus_row_max_equals_numpy(shape, dtype):
    x = _logits(shape, dtype, seed=shape[0])
    out = np.empty_like(x)
    kernels.get("minus_row_max")(x, out)
    with np.errstate(invalid="ignore"):
        expected = x - x.max(axis=1, keepdims=True)
    np.testing.assert_array_equal(bits(out), bits(expected))


def test_minus_row_max_reads_strided_rows():
    x = _logits((65, 300), np.float32).T          # (300, 65), columns contiguous
    out = np.empty(x.shape, x.dtype)
    kernels.get("minus_row_max")(x, out)
    with np.errstate(invalid="ignore"):
        np.testing.assert_array_equal(bits(out), bits(x - x.max(axis=1, keepdims=True)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("per_row", [False, True])
def test_softmax_minus_one_hot_equals_numpy(per_row, dtype):
    rng = np.random.default_rng(1)
    x = _logits((301, 17), dtype, specials=False)
    e = np.exp(x - x.max(axis=1, keepdims=True))
    s = e @ np.ones((17, 1), dtype)
    target = rng.integers(0, 17, 301)
    up = rng.standard_normal(301).astype(dtype) if per_row else np.asarray(1 / 301, dtype)
    gx = np.empty_like(e)
    kernels.get("softmax_minus_one_hot")(e, s, up.reshape(-1), per_row, target, gx)
    u = up.reshape(-1, 1) if per_row else up
    expected = e * (u / s)
    expected[np.arange(301), target] -= u[:, 0] if per_row else u
    np.testing.assert_array_equal(bits(gx), bits(expected))


def _loss_and_grad(x_np, t_np, use_kernels, **options):
    x = cr.from_numpy(x_np.copy()).requires_grad_()
    if use_kernels:
        loss = F.cross_entropy(x, cr.from_numpy(t_np), **options)
        loss.sum().backward()
    else:
        with kernels.disabled():
            loss = F.cross_entropy(x, cr.from_numpy(t_np), **options)
            loss.sum().backward()
    return loss.detach().numpy(), x.grad.numpy()


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("options", [dict(reduction="mean"), dict(reduction="sum"),
                                     dict(reduction="none"), dict(label_smoothing=0.1),
                                     dict(ignore_index=3)])
def test_cross_entropy_with_kernels_equals_cross_entropy_without(options, dtype):
    x_np = _logits((2048, 65), dtype, specials=False)
    t_np = np.random.default_rng(2).integers(0, 65, 2048)
    with_kernels = _loss_and_grad(x_np, t_np, True, **options)
    without = _loss_and_grad(x_np, t_np, False, **options)
    for a, b in zip(with_kernels, without):
        np.testing.assert_array_equal(bits(a), bits(b))


def test_cross_entropy_of_images_reads_classes_through_strides():
    # (N, C, H, W) logits: the classes axis is moved last as a view, not a copy
    x_np = _logits((4, 10, 9, 11), np.float32, specials=False)
    t_np = np.random.default_rng(3).integers(0, 10, (4, 9, 11))
    for a, b in zip(_loss_and_grad(x_np, t_np, True), _loss_and_grad(x_np, t_np, False)):
        np.testing.assert_array_equal(bits(a), bits(b))


def test_nan_logits_give_nan_loss_as_without_kernels():
    x_np = _logits((4096, 5), np.float32)       # row 0 holds a NaN
    t_np = np.zeros(4096, np.int64)
    (loss, grad), (loss_np, grad_np) = (_loss_and_grad(x_np, t_np, True),
                                        _loss_and_grad(x_np, t_np, False))
    assert np.isnan(loss) and np.isnan(loss_np)
    np.testing.assert_array_equal(bits(grad), bits(grad_np))


def test_cross_entropy_matches_torch_with_kernels():
    torch = pytest.importorskip("torch")
    x_np = _logits((2048, 65), np.float32, specials=False)
    t_np = np.random.default_rng(4).integers(0, 65, 2048)
    loss, grad = _loss_and_grad(x_np, t_np, True)
    xt = torch.from_numpy(x_np.copy()).requires_grad_()
    lt = torch.nn.functional.cross_entropy(xt, torch.from_numpy(t_np))
    lt.backward()
    np.testing.assert_allclose(loss, lt.item(), rtol=1e-6)
    np.testing.assert_allclose(grad, xt.grad.numpy(), rtol=1e-5, atol=1e-9)


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_the_kernels_are_what_ran(reduction, monkeypatch):
    # a mean's upstream gradient arrives as a NumPy scalar (g / n), not an array
    ran = []
    real = kernels.get_lazily
    monkeypatch.setattr(kernels, "get_lazily", lambda name, size: (ran.append(name) or
                                                                   real(name, size)))
    calls = []
    kernel = kernels.get("softmax_minus_one_hot")
    monkeypatch.setitem(kernels._kernels, "softmax_minus_one_hot",
                        lambda *a: calls.append(1) or kernel(*a))
    x_np = _logits((2048, 65), np.float32, specials=False)
    _loss_and_grad(x_np, np.zeros(2048, np.int64), True, reduction=reduction)
    assert "minus_row_max" in ran and calls == [1]
