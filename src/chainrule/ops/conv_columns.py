"""Convolution on exact im2col columns written by compiled kernels (``kernels.conv_kernels``),
the fast CPU path of ``ops.conv.Conv``.

NumPy builds columns cheaply only as long contiguous runs, which is why ``Conv`` frames each
padded image as one flat row and lets the products compute OW..Wp wrapped positions for nothing
(40% more work on LeNet's second layer). A kernel writes the exact columns straight from the
unpadded input, any stride, padding and dilation, so the products see only real positions, and
folds the column gradients straight into the unpadded input gradient. Two layouts, by shape:

- per image, columns (N, C*kh*kw, P) (P = OH*OW positions): Y_n = W X_n, a batch of products
  whose result is already (N, O, P), the output's layout;
- batch-last (stride 1), columns (C*kh*kw, P, N): Y = W X, ONE product (O, K) x (K, P*N), when
  an image has fewer positions than the weight has entries and per-image products would be too
  small for BLAS. The input is transposed to (C, H, W, N) first, so that every column row is
  copied in runs of OW*N values, and the result (O, P, N) is transposed into the output while
  the bias is added.

Per image with one group and a bias, the columns carry one more row of ones and the weight one
more column, the bias: the product adds the bias (no pass over the output) and, in backward,
the weight-gradient product sums dL/db along with dL/dW (LeNet's first layer: 0.1 ms a step).
"""
from .. import kernels
from ..backend import array_module, contiguous, xp
from ..kernels import blas



def batch_last(P, w4, stride):
    """Whether the batch-last layout serves: stride 1 and an image has fewer output positions
    than the weight has entries (LeNet's second layer: 100 positions against 16 x 150 weights;
    its three products took 0.93 ms per image, 0.67 ms as one each)."""
    return stride == (1, 1) and P < w4.shape[0] * w4[0].size


def _geometry_args(geom, N=1):
    """The kernels' geometry arguments; with N > 1 for a batch-last (C, H, W*N) input, where the
    width arguments count N values each."""
    (kh, kw), (sh, sw), (dh, dw), o, ((pt, _), (pl, _)) = geom
    return kh, kw, sh, sw, dh, dw * N, pt, pl * N, o[1] * N


def usable(x4, w4):
    """Whether the kernels can take this convolution: on, and float32 or float64 arrays (Numba
    has no float16) in host memory."""
    return (x4.dtype in kernels.DTYPES and w4.dtype in kernels.DTYPES
            and kernels.on_host(x4, w4) and kernels.get("im2col") is not None)


def columns_forward(ctx, x4, w4, b, geom, groups):
    """y (N, O, OH, OW) = W im2col(x) (+ b), the columns written by a compiled kernel; keeps
    the columns, the layout and the kernels on ``ctx`` for ``columns_backward`` (which thus
    takes the same path even if the kernels are switched off in between)."""
    unit = geom.stride[1] == 1
    N, C, H, W = x4.shape
    O = w4.shape[0]
    G, K = groups, w4[0].size
    o = geom.out
    P = o[0] * o[1]
    size = N * G * K * P                                 # the columns' entries
    im2col = kernels.get("im2col_unit_stride" if unit else "im2col", size)
    ctx.col2im = kernels.get("col2im_unit_stride" if unit else "col2im", size)
    ctx.batch_first = kernels.get("batch_first", N * O * P)
    make = array_module(x4)
    wg = w4.reshape(G, O // G, K)
    ctx.batch_last = batch_last(P, w4, geom.stride)
    if ctx.batch_last:
        images = contiguous(x4.transpose(1, 2, 3, 0)).reshape(1, C, H, W * N)
        cols = make.empty((G * K, P * N), dtype=x4.dtype)
        im2col(images, *_geometry_args(geom, N), cols.reshape(1, G * K, P * N))
        y = blas.matmul(wg, cols.reshape(G, K, P * N))                     # (O, P*N)
        out = make.empty((N, O) + tuple(o), dtype=y.dtype)
        bias = make.zeros(O, y.dtype) if b is None else contiguous(b.astype(y.dtype, copy=False))
        ctx.batch_first(y.reshape(O, P, N), bias, b is not None, out.reshape(N, O, P))
        ctx.cols = cols
        return out
    x4 = contiguous(x4)   # the kernel is compiled for C-contiguous arrays only
    ctx.bias_row = G == 1 and b is not None and b.dtype == w4.dtype == x4.dtype
    if ctx.bias_row:
        # one more column row of ones, the bias one more weight column: the product adds the
        # bias (no pass over the output) and backward's weight-gradient product sums dL/db
        cols = make.empty((N, K + 1, P), dtype=x4.dtype)
        cols[:, K] = 1
        im2col(x4, *_geometry_args(geom), cols)
        ctx.cols = cols
        return blas.matmul(xp.concatenate((wg[0], b[:, None]), axis=1), cols).reshape(
            N, O, o[0], o[1])
    cols = make.empty((N, G * K, P), dtype=x4.dtype)
    im2col(x4, *_geometry_args(geom), cols)
    if G == 1:
        out = blas.matmul(wg[0], cols)                                    # (N, O, P)
    else:
        out = blas.matmul(wg, cols.reshape(N, G, K, P)).reshape(N, O, P)
    if b is not None:
        out += b[:, None]
    ctx.cols = cols
    return out.reshape(N, O, o[0], o[1])


def columns_backward(ctx, g4, w4, x4_shape, geom, groups, need):
    """(dL/dx as (N, C, H, W), dL/dW, dL/db; each None where not needed) from dL/dy
    (N, O, OH, OW): dL/dW = sum_n dY_n X_n^T, dL/dX = col2im(W^T dY) by the kernel on ``ctx``,
    dL/db the sum of dY over batch and positions, taken along contiguous rows (a sum over
    axes (0, 2, 3) runs 2-3x slower)."""
    col2im = ctx.col2im
    N, O = g4.shape[:2]
    G, K = groups, w4[0].size
    (k, s, d, o, _) = geom
    P = o[0] * o[1]
    cols = ctx.cols
    wg = w4.reshape(G, O // G, K)
    gx = gw = None
    disjoint = all(ss >= dd * (kk - 1) + 1 for ss, dd, kk in zip(s, d, k))
    if ctx.batch_last:
        gT = contiguous(g4.transpose(1, 2, 3, 0)).reshape(G, O // G, P * N)
        gb = gT.reshape(O, P * N).sum(axis=1) if need[2] else None
        if need[1]:
            # (X dY^T)^T: the columns as they lie, the gradient's small side transposed
            gw = xp.swapaxes(blas.matmul(cols.reshape(G, K, P * N), xp.swapaxes(gT, 1, 2)), 1, 2)
        if need[0]:
            gcols = blas.matmul(xp.swapaxes(wg, 1, 2), gT)               # (G, K, P*N)
            C, H, W = x4_shape[1:]
            images = array_module(g4).zeros((1, C, H, W * N), dtype=gcols.dtype)
            col2im(gcols.reshape(1, G * K, P * N), *_geometry_args(geom, N), disjoint, images)
            gx = array_module(g4).empty((N, C, H, W), dtype=images.dtype)
            ctx.batch_first(images.reshape(C, H * W, N), array_module(g4).zeros(C, images.dtype),
                            False, gx.reshape(N, C, H * W))
        return gx, gw, gb
    g3 = g4.reshape(N, O, P) if G == 1 else g4.reshape(N, G, O // G, P)
    gb = None
    if ctx.bias_row and need[1]:   # dL/db from the row of ones, in the same products
        gwb = blas.matmul(g3, xp.swapaxes(cols, -1, -2)).sum(axis=0)
        gw, gb = gwb[:, :K], (gwb[:, K] if need[2] else None)
        need = (need[0], False, False)
    if ctx.bias_row:
        cols = cols[:, :K]
    if need[2]:   # per image and channel a product with ones (a sum over rows of P values)
        gb = blas.matmul(g4.reshape(N, O, P), array_module(g4).ones(P, g4.dtype)).sum(axis=0)
    if need[1]:
        gw = blas.matmul(g3, xp.swapaxes(cols if G == 1 else cols.reshape(N, G, K, P), -1, -2))
        gw = gw.sum(axis=0)
    if need[0]:
        if G == 1:
            gcols = blas.matmul(wg[0].T, g3)                              # (N, K, P)
        else:
            gcols = blas.matmul(xp.swapaxes(wg, 1, 2), g3).reshape(N, G * K, P)
        gx = array_module(g4).zeros(x4_shape, dtype=gcols.dtype)
        col2im(contiguous(gcols), *_geometry_args(geom), disjoint, gx)
    return gx, gw, gb
