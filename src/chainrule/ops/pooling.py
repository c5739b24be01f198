"""Max, average and adaptive average pooling on whole arrays, through the window geometry of
``conv``."""
import math

from .. import kernels
from ..backend import array_module, contiguous, placed_like, xp
from .base import Op
from .conv import (WindowGeometry, col2im, from4d, grad_to4d, offset_slices, out_size, pad_array,
                   to4d, unpad_grad, windows)


def _pool_geometry(x4, k, s, p, d, ceil_mode, op):
    H, W = x4.shape[2:]
    o = tuple(out_size(n, kk, ss, dd, pp, pp, ceil_mode, op)
              for n, kk, ss, dd, pp in zip((H, W), k, s, d, p))
    # ceil_mode may need room past the right padding for the last window.
    extent = tuple((oo - 1) * ss + dd * (kk - 1) + 1 for oo, ss, dd, kk in zip(o, s, d, k))
    return o, extent


class MaxPoolReference(Op):
    """The lecture's max pooling: every window as a column, its max and argmax, and the
    gradient scattered back to the argmax.

    cols = windows(x_pad) as (N, C, kh*kw, OH, OW), padding -inf;  y = max over axis 2,
    arg = its argmax (the first maximum on ties, as PyTorch);  dL/dcols = dL/dy at ``arg`` and
    zero elsewhere, dL/dx = crop(col2im(dL/dcols)). Same arguments as ``MaxPool``; ``arg`` is
    kept as ``MaxPool.indices`` reads it.
    """

    @staticmethod
    def forward(ctx, x, k, s, p, d, ceil_mode, spatial):
        x4 = to4d(x, spatial)
        o, extent = _pool_geometry(x4, k, s, p, d, ceil_mode, f"max_pool{spatial}d")
        pads = ((p[0], p[0]), (p[1], p[1]))
        xpad = pad_array(x4, pads, -xp.inf, extent)
        N, C = x4.shape[:2]
        cols = windows(xpad, k, s, d, o).reshape(N, C, k[0] * k[1], o[0], o[1])
        out, arg = cols.max(axis=2), cols.argmax(axis=2)
        ctx.arg, ctx.geom = arg, WindowGeometry(k, s, d, o, pads)
        ctx.pad_shape, ctx.x_shape = xpad.shape, x.shape
        return from4d(out, spatial)

    @staticmethod
    def backward(ctx, g):
        k, s, d, o, pads = ctx.geom
        g4 = grad_to4d(g)
        N, C = g4.shape[:2]
        gcols = array_module(g).zeros((N, C, k[0] * k[1], o[0], o[1]), dtype=g.dtype)
        xp.put_along_axis(gcols, ctx.arg[:, :, None], g4[:, :, None], axis=2)
        gpad = col2im(gcols.reshape(N, C * k[0] * k[1], o[0] * o[1]), ctx.pad_shape, k, s, d, o)
        gx = unpad_grad(gpad, pads, ctx.x_shape)
        return gx, None, None, None, None, None, None


class MaxPool(Op):
    """y = max over each window (padding counts as -inf);  dL/dx: each window's dL/dy goes to
    the first position holding its maximum. Unlike the twin, no window columns are copied: the
    maximum runs over the kh*kw strided views of the input (a tournament tree for 2x2) and the
    winning offset is recorded while it is taken (a uint8 per output), so backward needs neither
    the input nor a search, and writes each offset's share straight into its strided slice.
    With Numba (the ``fast`` extra) both directions are one compiled pass each
    (``kernels.pooling_kernels``), bit-equal to these passes."""

    reference = MaxPoolReference

    @staticmethod
    def forward(ctx, x, k, s, p, d, ceil_mode, spatial):
        x4 = to4d(x, spatial)
        o, extent = _pool_geometry(x4, k, s, p, d, ceil_mode, f"max_pool{spatial}d")
        pads = ((p[0], p[0]), (p[1], p[1]))
        xpad = pad_array(x4, pads, -xp.inf, extent)
        ctx.pad_shape, ctx.x_shape = xpad.shape, x.shape
        ctx.geom = WindowGeometry(k, s, d, o, pads)
        halving = k == (2, 2) and s == (2, 2) and d == (1, 1)
        kernel = kernels.get("max_pool_2x2" if halving else "max_pool", x4.size)
        ctx.kernel = (kernel is not None and x4.dtype in kernels.DTYPES  # Numba: no float16
                      and kernels.on_host(x4))
        if ctx.kernel:  # one compiled pass (kernels.pooling_kernels, bit-equal to the passes below)
            N, C = x4.shape[:2]
            out = xp.empty((N, C) + o, dtype=x4.dtype)
            ctx.arg = xp.empty((N, C) + o, dtype=xp.uint8 if k[0] * k[1] < 256 else xp.int32)
            xpad = contiguous(xpad)
            if halving:
                kernel(xpad, out, ctx.arg)
            else:
                kernel(xpad, *k, *s, *d, out, ctx.arg)
            return from4d(out, spatial)
        views = [xpad[sl] for _, sl in offset_slices(k, s, d, o)]
        if len(views) == 4:  # 2x2, the common case: a tournament tree, 8 whole-array passes
            # on contiguous copies of the four strided views: NumPy vectorises contiguous
            # passes only (LeNet's first pool: 0.52 -> 0.27 ms with the copies)
            out, ctx.arg = _max_arg_2x2([contiguous(v) for v in views])
            return from4d(out, spatial)
        out = views[0].copy() if len(views) == 1 else xp.maximum(views[0], views[1])
        for v in views[2:]:
            xp.maximum(out, v, out=out)
        # The argmax, fused with the max: walking the offsets backwards, the last write at each
        # output is the FIRST offset holding the maximum (PyTorch's choice on ties).
        arg = array_module(out).zeros(out.shape, dtype=xp.uint8 if len(views) < 256 else xp.int32)
        for n in range(len(views) - 1, -1, -1):
            xp.putmask(arg, views[n] == out, n)
        ctx.arg = arg
        return from4d(out, spatial)

    @staticmethod
    def backward(ctx, g):
        k, s, d, o, pads = ctx.geom
        pad_shape, x_shape = ctx.pad_shape, ctx.x_shape
        g4 = grad_to4d(g)
        arg = ctx.arg
        disjoint = s[0] >= d[0] * (k[0] - 1) + 1 and s[1] >= d[1] * (k[1] - 1) + 1
        x4_shape = g4.shape[:2] + (x_shape[-2:] if len(x_shape) == 4 else (1, x_shape[-1]))
        halving = (k == (2, 2) and s == (2, 2) and d == (1, 1) and pads == ((0, 0), (0, 0))
                   and 2 * o[0] <= x4_shape[2] and 2 * o[1] <= x4_shape[3])
        kernel = ctx.kernel and kernels.get("max_pool_2x2_backward" if halving
                                            else "max_pool_backward", math.prod(x4_shape))
        if kernel and g4.dtype in kernels.DTYPES and kernels.on_host(g4):
            # the NumPy passes below in one (kernels.pooling_kernels), the same zeros included
            signed = disjoint and bool(xp.isfinite(g4).all())
            g4 = contiguous(g4)
            # the 2x2 kernel writes every position of windows that tile x exactly: no zeros
            tiled = halving and 2 * o[0] == x4_shape[2] and 2 * o[1] == x4_shape[3]
            gx = (xp.empty if tiled else xp.zeros)(x4_shape, dtype=g4.dtype)
            if halving:
                kernel(g4, arg, signed, g4.dtype.type(0), gx)
            else:
                kernel(g4, arg, *k, *s, *d, pads[0][0], pads[1][0], disjoint, signed, gx)
            return gx.reshape(x_shape), None, None, None, None, None, None
        zero = g.dtype.type(0)
        # Disjoint windows: g times each offset's 0/1 mask, written straight into the strided
        # slice (4x faster than where + assignment); where() keeps an inf or NaN in g from
        # leaking into the positions that did not win (inf * 0 = NaN).
        multiply = disjoint and type(g4) is xp.ndarray and bool(xp.isfinite(g4).all())  # GPU: skip
        tiled = multiply and all(kk == ss and dd == 1 and oo * ss == n
                                 for kk, ss, dd, oo, n in zip(k, s, d, o, pad_shape[2:]))
        made = array_module(g)
        gpad = (made.empty if tiled else made.zeros)(pad_shape, dtype=g.dtype)
        for n, sl in offset_slices(k, s, d, o):
            if multiply:
                xp.multiply(g4, arg == n, out=gpad[sl])
                continue
            hit = xp.where(arg == n, g4, zero)
            if disjoint:
                gpad[sl] = hit
            else:
                gpad[sl] += hit
        gx = unpad_grad(gpad, pads, x_shape)
        return gx, None, None, None, None, None, None

    @staticmethod
    def indices(ctx, x_shape_hw):
        """PyTorch's ``return_indices``: the flat (h * W + w) input position of each maximum."""
        k, s, d, o, pads = ctx.geom
        ki, kj = xp.divmod(ctx.arg.astype(xp.int64), k[1])
        rows = array_module(ki).arange(o[0])[:, None] * s[0] - pads[0][0] + ki * d[0]
        cols = array_module(kj).arange(o[1])[None, :] * s[1] - pads[1][0] + kj * d[1]
        return rows * x_shape_hw[1] + cols


def _max_arg_2x2(v):
    """Max of four views and the index (0-3) of the first maximum: two pairs, then the final."""
    left, right = xp.maximum(v[0], v[1]), xp.maximum(v[2], v[3])
    arg_left = xp.greater(v[1], v[0]).view(xp.uint8)
    arg_right = xp.greater(v[3], v[2]).view(xp.uint8)
    arg_right += 2
    take_right = xp.greater(right, left)
    return xp.maximum(left, right), xp.where(take_right, arg_right, arg_left)


def _pool_counts(x4_hw, k, s, p, d, o, extent, count_include_pad, dtype, like=None):
    """How many positions each average divides by: the window's overlap with the input, or with
    the input plus its padding (but never the ceil_mode overhang), PyTorch's rule."""
    H, W = x4_hw
    mask = array_module(like).zeros((1, 1) + tuple(max(e, n + 2 * pp)
                                                   for e, n, pp in zip(extent, (H, W), p)),
                    dtype=dtype)
    if count_include_pad:
        mask[:, :, :H + 2 * p[0], :W + 2 * p[1]] = 1
    else:
        mask[:, :, p[0]:p[0] + H, p[1]:p[1] + W] = 1
    total = array_module(like).zeros((1, 1) + o, dtype=dtype)
    for _, sl in offset_slices(k, s, d, o):
        total += mask[sl]
    return total[0, 0]


class AvgPool(Op):
    """y = (sum over each window) / count;  dL/dx = dL/dy / count spread over each window.

    ``count`` is the window size (count_include_pad) or the number of real input positions in it,
    or ``divisor_override``."""

    @staticmethod
    def forward(ctx, x, k, s, p, ceil_mode, count_include_pad, divisor_override, spatial):
        x4 = to4d(x, spatial)
        d = (1, 1)
        o, extent = _pool_geometry(x4, k, s, p, d, ceil_mode, f"avg_pool{spatial}d")
        pads = ((p[0], p[0]), (p[1], p[1]))
        xpad = pad_array(x4, pads, 0.0, extent)
        slices = offset_slices(k, s, d, o)
        out = xpad[slices[0][1]].copy()
        for _, sl in slices[1:]:
            out += xpad[sl]
        if divisor_override:
            count = x.dtype.type(divisor_override)
        elif not ceil_mode and (count_include_pad or p == (0, 0)):
            count = x.dtype.type(k[0] * k[1])
        else:
            count = _pool_counts(x4.shape[2:], k, s, p, d, o, extent, count_include_pad, x.dtype,
                                 x)
        out /= count
        ctx.count, ctx.geom = count, WindowGeometry(k, s, d, o, pads)
        ctx.pad_shape, ctx.x_shape = xpad.shape, x.shape
        return from4d(out, spatial)

    @staticmethod
    def backward(ctx, g):
        k, s, d, o, pads = ctx.geom
        pad_shape, x_shape = ctx.pad_shape, ctx.x_shape
        g4 = grad_to4d(g) / ctx.count
        cols = xp.broadcast_to(g4[:, :, None, None], g4.shape[:2] + k + o)
        gpad = col2im(cols, pad_shape, k, s, d, o)
        gx = unpad_grad(gpad, pads, x_shape)
        return gx, None, None, None, None, None, None, None


def adaptive_matrix(n, m, dtype):
    """(m, n) averaging matrix: output i averages input [floor(i n/m), ceil((i+1) n/m))."""
    i = xp.arange(m)
    start = (i * n) // m
    end = -((-(i + 1) * n) // m)
    j = xp.arange(n)
    inside = (j[None, :] >= start[:, None]) & (j[None, :] < end[:, None])
    return (inside / (end - start)[:, None]).astype(dtype)


class Separable(Op):
    """y = A_h x A_w^T over the two last axes (adaptive average pooling, nearest upsampling);
    dL/dx = A_h^T dL/dy A_w. ``a_h`` or ``a_w`` may be None for the identity."""

    @staticmethod
    def forward(ctx, x, a_h, a_w):
        a_h, a_w = placed_like(a_h, x), placed_like(a_w, x)
        ctx.a_h, ctx.a_w = a_h, a_w
        y = x
        if a_h is not None:
            y = xp.matmul(a_h, y)
        if a_w is not None:
            y = xp.matmul(y, a_w.T)
        return y

    @staticmethod
    def backward(ctx, g):
        if ctx.a_h is not None:
            g = xp.matmul(ctx.a_h.T, g)
        if ctx.a_w is not None:
            g = xp.matmul(g, ctx.a_w)
        return g, None, None


def adaptive_bins(n, m):
    """(m, k) input indices of PyTorch's adaptive bins [floor(i n/m), ceil((i+1) n/m)), each
    padded to the longest bin k by repeating its first index, and the (m, k) mask of real ones."""
    i = xp.arange(m)
    start = (i * n) // m
    end = -((-(i + 1) * n) // m)
    k = int((end - start).max())
    offsets = xp.arange(k)
    inside = offsets[None, :] < (end - start)[:, None]
    return xp.where(inside, start[:, None] + offsets[None, :], start[:, None]), inside


class AdaptiveMaxPool(Op):
    """y[n, c, i, j] = max of x[n, c] over the bin rows_i x cols_j (PyTorch's adaptive bins,
    which may overlap), and its flat index h * W + w in the input plane (the first maximum; a
    NaN wins, as PyTorch). dL/dx: each dL/dy added at its argmax (overlapping bins add up).
    Works on (N, C, H, W); ``rows``/``cols`` and their masks come from ``adaptive_bins``."""

    @staticmethod
    def forward(ctx, x, rows, row_mask, cols, col_mask):
        rows, row_mask, cols, col_mask = (placed_like(a, x)
                                          for a in (rows, row_mask, cols, col_mask))
        N, C, H, W = x.shape
        mh, kh = rows.shape
        mw, kw = cols.shape
        win = x[:, :, rows[:, :, None, None], cols[None, None, :, :]]     # (N, C, mh, kh, mw, kw)
        valid = row_mask[:, :, None, None] & col_mask[None, None, :, :]
        win = xp.where(valid, win, -xp.inf).transpose(0, 1, 2, 4, 3, 5).reshape(
            N, C, mh, mw, kh * kw)
        arg = win.argmax(axis=-1)
        out = xp.take_along_axis(win, arg[..., None], axis=-1)[..., 0]
        flat_rows = xp.broadcast_to(rows[:, None, :, None], (mh, mw, kh, kw)).reshape(mh, mw, -1)
        flat_cols = xp.broadcast_to(cols[None, :, None, :], (mh, mw, kh, kw)).reshape(mh, mw, -1)
        oh, ow = array_module(arg).arange(mh)[:, None], array_module(arg).arange(mw)[None, :]
        indices = flat_rows[oh, ow, arg] * W + flat_cols[oh, ow, arg]    # (N, C, mh, mw)
        ctx.indices, ctx.x_shape = indices, x.shape
        return out.astype(x.dtype, copy=False), indices

    @staticmethod
    def backward(ctx, g, g_indices=None):
        N, C, H, W = ctx.x_shape
        base = (array_module(g).arange(N * C) * (H * W)).reshape(N, C, 1, 1)
        gx = xp.bincount((ctx.indices + base).ravel(), weights=g.ravel(), minlength=N * C * H * W)
        return gx.reshape(ctx.x_shape).astype(g.dtype, copy=False), None, None, None, None
