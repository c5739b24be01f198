"""Convolution's and max pooling's compiled kernels (chainrule.kernels.conv_kernels,
pooling_kernels) equal the NumPy code they replace bit for bit: im2col and col2im against
ops.conv's window view and offset-by-offset adds, max pooling's values, winning offsets and
gradients against MaxPool's NumPy passes, signed zeros, NaN and infinities included, in float32
and float64, over strides, paddings, dilations, odd sizes, empty batches and non-contiguous
inputs."""
import numpy as np
import pytest

import chainrule as cr
from chainrule import kernels
from chainrule.ops import conv as C
from chainrule.ops.conv_columns import _geometry_args

from bit_patterns import bits

pytest.importorskip("numba")
pytestmark = pytest.mark.skipif(not kernels.available(), reason="kernels off (CHAINRULE_KERNELS=0)")


SPECIALS = [np.nan, -np.inf, np.inf, -0.0, 0.0, -1.0, 1e-45, -1e-45]


def rand(shape, dtype, seed=0, specials=True):
    a = np.random.default_rng(seed).standard_normal(shape).astype(dtype)
    flat = a.reshape(-1)
    if specials:
        flat[:min(len(SPECIALS), flat.size)] = SPECIALS[:flat.size]
    return a


# (x shape (N, C, H, W), kernel, stride, padding ((top, bottom), (left, right)), dilation)
GEOMETRIES = [
    ((2, 3, 7, 9), (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1)),
    ((2, 3, 7, 9), (3, 2), (2, 3), ((0, 2), (1, 0)), (2, 1)),
    ((1, 2, 5, 6), (2, 2), (2, 2), ((0, 0), (0, 0)), (1, 1)),      # disjoint windows
    ((3, 1, 8, 8), (5, 5), (1, 1), ((2, 2), (2, 2)), (1, 1)),      # LeNet's first layer
    ((2, 4, 6, 5), (1, 4), (1, 1), ((0, 0), (2, 1)), (1, 2)),
    ((0, 2, 6, 6), (3, 3), (1, 1), ((1, 1), (1, 1)), (1, 1)),      # empty batch
    ((2, 1, 3, 3), (3, 3), (1, 1), ((4, 4), (4, 4)), (1, 1)),      # rows all padding
]


def geometry(x_shape, k, s, pads, d):
    H, W = x_shape[2:]
    o = tuple(C.out_size(n, kk, ss, dd, lo, hi)
              for n, kk, ss, dd, (lo, hi) in zip((H, W), k, s, d, pads))
    return C.WindowGeometry(k, s, d, o, pads)


def im2col_kernel(s):
    return kernels.get("im2col_unit_stride" if s[1] == 1 else "im2col")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("x_shape, k, s, pads, d", GEOMETRIES)
def test_im2col_equals_the_window_view(x_shape, k, s, pads, d, dtype):
    x = rand(x_shape, dtype)
    geom = geometry(x_shape, k, s, pads, d)
    o = geom.out
    expected = C.im2col(C.pad_array(x, pads), k, s, d, o)
    N, Ch = x_shape[:2]
    for kernel in {im2col_kernel(s), kernels.get("im2col")}:     # unit stride also generally
        cols = np.full((N, Ch * k[0] * k[1], o[0] * o[1]), 7.0, dtype)   # every entry written
        kernel(x, *_geometry_args(geom), cols)
        np.testing.assert_array_equal(bits(cols), bits(np.ascontiguousarray(expected)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("x_shape, k, s, pads, d", GEOMETRIES)
def test_col2im_equals_the_offset_by_offset_adds(x_shape, k, s, pads, d, dtype):
    geom = geometry(x_shape, k, s, pads, d)
    o = geom.out
    N, Ch, H, W = x_shape
    cols = rand((N, Ch * k[0] * k[1], o[0] * o[1]), dtype, seed=1)
    padded = tuple(n + lo + hi for n, (lo, hi) in zip((H, W), pads))
    expected = C.crop(C.col2im(cols, (N, Ch) + padded, k, s, d, o), pads, (H, W))
    disjoint = all(ss >= dd * (kk - 1) + 1 for ss, dd, kk in zip(s, d, k))
    kernel = kernels.get("col2im_unit_stride" if s[1] == 1 else "col2im")
    for kernel in {kernel, kernels.get("col2im")}:
        gx = np.zeros(x_shape, dtype)
        kernel(cols, *_geometry_args(geom), disjoint, gx)
        np.testing.assert_array_equal(bits(gx), bits(np.ascontiguousarray(expected)))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batch_last_columns_are_the_unit_stride_kernels_on_a_transposed_input(dtype):
    """An input (C, H, W, N) read as one image of rows of W*N values: the columns (C*kh*kw,
    P, N), and col2im back, bit-equal to the per-image columns transposed."""
    x_shape, k, s, pads, d = (3, 2, 7, 8), (3, 2), (1, 1), ((1, 0), (2, 1)), (2, 1)
    x = rand(x_shape, dtype)
    geom = geometry(x_shape, k, s, pads, d)
    N, Ch, H, W = x_shape
    K, P = Ch * k[0] * k[1], geom.out[0] * geom.out[1]
    images = np.ascontiguousarray(x.transpose(1, 2, 3, 0)).reshape(1, Ch, H, W * N)
    cols = np.empty((1, K, P * N), dtype)
    kernels.get("im2col_unit_stride")(images, *_geometry_args(geom, N), cols)
    per_image = C.im2col(C.pad_array(x, pads), k, s, d, geom.out)              # (N, K, P)
    np.testing.assert_array_equal(bits(cols.reshape(K, P, N)),
                                  bits(np.ascontiguousarray(per_image.transpose(1, 2, 0))))
    gcols = rand((K, P, N), dtype, seed=2)
    gx = np.zeros((1, Ch, H, W * N), dtype)
    kernels.get("col2im_unit_stride")(gcols.reshape(1, K, P * N), *_geometry_args(geom, N),
                                      False, gx)
    padded = tuple(n + lo + hi for n, (lo, hi) in zip((H, W), pads))
    expected = C.crop(C.col2im(np.ascontiguousarray(gcols.transpose(2, 0, 1)), (N, Ch) + padded,
                               k, s, d, geom.out), pads, (H, W))
    np.testing.assert_array_equal(bits(gx.reshape(Ch, H, W, N).transpose(3, 0, 1, 2)),
                                  bits(np.ascontiguousarray(expected)))


def conv_both(x, w, b, transpose_input=False, **kw):
    """conv2d's output and gradients with the kernels and without (NumPy's layouts)."""
    results = []
    upstream = None
    for use in (True, False):
        xt = cr.from_numpy(x.transpose(0, 1, 3, 2) if transpose_input else x).requires_grad_()
        wt, bt = cr.from_numpy(w).requires_grad_(), cr.from_numpy(b).requires_grad_()
        if use:
            y = cr.nn.functional.conv2d(xt, wt, bt, **kw)
        else:
            with kernels.disabled():
                y = cr.nn.functional.conv2d(xt, wt, bt, **kw)
        upstream = rand(y.shape, x.dtype, seed=5, specials=False) if upstream is None else upstream
        if use:
            y.backward(cr.from_numpy(upstream))
        else:
            with kernels.disabled():
                y.backward(cr.from_numpy(upstream))
        assert y.array.flags.c_contiguous or not use
        results.append([y.detach().numpy(), xt.grad.numpy(), wt.grad.numpy(), bt.grad.numpy()])
    return results


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("x_shape, w_shape, kw", [
    ((3, 1, 12, 12), (4, 1, 5, 5), dict(padding=2)),              # per image
    ((3, 6, 9, 9), (16, 6, 5, 5), {}),                            # batch-last
    ((2, 4, 9, 11), (6, 2, 3, 3), dict(stride=2, padding=1, dilation=2, groups=2)),
    ((2, 4, 7, 7), (8, 2, 3, 3), dict(padding=1, groups=2)),      # batch-last, groups
    ((0, 3, 8, 8), (16, 3, 3, 3), {}),                            # empty batch
])
def test_conv_with_kernels_matches_conv_without(x_shape, w_shape, kw, dtype):
    rng = np.random.default_rng(0)
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in (x_shape, w_shape, w_shape[:1]))
    with_kernels, without = conv_both(x, w, b, **kw)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for a, r in zip(with_kernels, without):
        assert a.dtype == r.dtype and a.shape == r.shape
        np.testing.assert_allclose(a, r, rtol=tol, atol=tol)


def test_conv_kernels_take_a_non_contiguous_input():
    rng = np.random.default_rng(1)
    x, w, b = (rng.standard_normal(s) for s in ((2, 3, 8, 7), (5, 3, 3, 3), (5,)))
    for layout in (dict(padding=1), dict(stride=2)):
        with_kernels, without = conv_both(x, w, b, transpose_input=True, **layout)
        for a, r in zip(with_kernels, without):
            np.testing.assert_allclose(a, r, rtol=1e-12, atol=1e-12)


def test_switching_the_kernels_off_between_forward_and_backward_keeps_each_op_whole():
    """The backward takes the path its forward took (conv: the kernels' columns; max pooling:
    either backward reads the winning offsets its forward recorded)."""
    rng = np.random.default_rng(3)
    x_np = rng.standard_normal((2, 3, 8, 8))
    w_np = rng.standard_normal((4, 3, 3, 3))
    grads = []
    for switch_off in (False, True):
        x, w = cr.from_numpy(x_np).requires_grad_(), cr.from_numpy(w_np).requires_grad_()
        y = cr.nn.functional.max_pool2d(cr.nn.functional.conv2d(x, w, padding=1), 2)
        with kernels.disabled() if switch_off else cr.backends.reference(False):
            y.sum().backward()
        grads.append((x.grad.numpy(), w.grad.numpy()))
    for a, b in zip(*grads):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("frozen", ["x", "w", "b", "w and b"])
def test_the_bias_row_gives_each_gradient_that_is_asked_for(frozen, dtype):
    """Per image with a bias the kernels' columns carry a row of ones (ops.conv_columns): the
    output and whichever of dL/dx, dL/dW, dL/db are needed match the NumPy layouts', and those
    not needed stay None (12 x 11 positions against 4 x 25 weights: the per-image layout)."""
    rng = np.random.default_rng(4)
    x, w, b = (rng.standard_normal(s).astype(dtype) for s in ((3, 1, 12, 11), (4, 1, 5, 5), (4,)))
    upstream = rand((3, 4, 12, 11), dtype, seed=6, specials=False)
    results = []
    for use in (True, False):
        xt, wt, bt = (cr.from_numpy(a).requires_grad_(name not in frozen)
                      for name, a in (("x", x), ("w", w), ("b", b)))
        with kernels.disabled() if not use else cr.backends.reference(False):
            y = cr.nn.functional.conv2d(xt, wt, bt, padding=2)
            y.backward(cr.from_numpy(upstream))
        results.append([y.detach().numpy()] + [None if t.grad is None else t.grad.numpy()
                                               for t in (xt, wt, bt)])
    tol = 1e-5 if dtype == np.float32 else 1e-12
    for name, a, r in zip(("y", "x", "w", "b"), *results):
        assert (a is None) == (r is None) == (name in frozen)
        if a is not None:
            np.testing.assert_allclose(a, r, rtol=tol, atol=tol)
