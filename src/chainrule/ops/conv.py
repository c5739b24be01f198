"""Convolution and transposed convolution as ops on whole arrays, and the sliding-window
geometry (padding, im2col, col2im) that pooling and fold/unfold share.

Read ``ConvReference`` first: it is the lecture's convolution, pad -> im2col -> one matrix
product per group -> reshape, and col2im on the way back. ``Conv`` computes the same numbers in
one of three layouts, chosen by the shapes:

- im2col (any stride): the columns (N, C*kh*kw, OH*OW) of ``im2col``, as in the twin.
- flat frame per image (stride 1): each padded image as one flat row, so that every kernel offset
  reads ONE contiguous run (``im2col_flat``): (N, C*kh*kw, L) columns, one product per image.
- batch-last (stride 1, one group, few positions): the same frame with the batch innermost,
  (C*kh*kw, L*N) columns and ONE product for the whole batch, when an image has fewer positions
  than the weight has entries and per-image products would be too small for BLAS
  (``_few_positions``).

With Numba (the ``fast`` extra) ``Conv`` takes neither: compiled kernels write exact columns,
per image or batch-last, for any stride (``conv_columns``).

Everything works on 4-D arrays (N, C, H, W); the 1-D variants add a unit height. im2col goes
through a strided *view*: for a (padded) input the array of all kh x kw windows, shape
(N, C, kh, kw, OH, OW), costs no memory, and one reshape copies it into the columns. The way
back, col2im, adds the columns into the input with one vectorised add per kernel offset (kh*kw
adds, never a loop over pixels, images or channels).
"""
from typing import NamedTuple

from ..backend import array_module, contiguous, xp
from ..kernels import blas
from . import conv_columns
from .base import Op


def as_strided(x, shape, strides, writeable=True):
    """NumPy's ``as_strided`` from the array's own library (CuPy's for a GPU array, which has
    no ``writeable`` flag)."""
    module = array_module(x)
    if module is xp:
        return xp.lib.stride_tricks.as_strided(x, shape, strides, writeable=writeable)
    return module.lib.stride_tricks.as_strided(x, shape, strides)


# -- geometry ----------------------------------------------------------------------------------

class WindowGeometry(NamedTuple):
    """Where the sliding windows of a convolution, pooling or unfold lie, each field per spatial
    axis (h, w): the window is ``kernel`` positions ``dilation`` apart, consecutive windows are
    ``stride`` apart, there are ``out`` of them, over the input padded by ``pads``
    ((top, bottom), (left, right))."""
    kernel: tuple
    stride: tuple
    dilation: tuple
    out: tuple
    pads: tuple



def out_size(n, k, s, d, lo, hi, ceil_mode=False, op="conv"):
    """Output length of a sliding window: floor or ceil((n + lo + hi - d(k-1) - 1)/s) + 1.

    With ceil_mode a last window that would start inside the right padding is dropped, as
    PyTorch does."""
    span = n + lo + hi - d * (k - 1) - 1
    if span < 0:
        raise RuntimeError(f"{op}: the kernel (size {k}, dilation {d}) is larger than the padded "
                           f"input (size {n} + padding {lo} + {hi})")
    o = (-(-span // s) if ceil_mode else span // s) + 1
    if ceil_mode and (o - 1) * s >= n + lo:
        o -= 1
    return o


def pad_array(x, pads, value=0.0, extent=None):
    """x (N, C, H, W) padded by ((top, bottom), (left, right)) with ``value``; the array itself
    when there is nothing to pad. ``extent`` (H', W') may ask for extra room at the end."""
    (pt, pb), (pl, pr) = pads
    N, C, H, W = x.shape
    Hp, Wp = H + pt + pb, W + pl + pr
    if extent is not None:
        Hp, Wp = max(Hp, extent[0]), max(Wp, extent[1])
    if (Hp, Wp) == (H, W):
        return x
    out = array_module(x).empty((N, C, Hp, Wp), dtype=x.dtype)
    out.fill(value)
    out[:, :, pt:pt + H, pl:pl + W] = x
    return out


def windows(xpad, k, s, d, o):
    """The read-only strided view (N, C, kh, kw, OH, OW) of every window: no copy."""
    N, C = xpad.shape[:2]
    sN, sC, sH, sW = xpad.strides
    return as_strided(xpad, (N, C, k[0], k[1], o[0], o[1]),
                      (sN, sC, sH * d[0], sW * d[1], sH * s[0], sW * s[1]), writeable=False)


def offset_slices(k, s, d, o):
    """For every kernel offset (i, j), the strided slice of the padded input it reads."""
    return [(i * k[1] + j,
             (slice(None), slice(None),
              slice(i * d[0], i * d[0] + s[0] * (o[0] - 1) + 1, s[0]),
              slice(j * d[1], j * d[1] + s[1] * (o[1] - 1) + 1, s[1])))
            for i in range(k[0]) for j in range(k[1])]


def im2col(xpad, k, s, d, o):
    """Columns (N, C*kh*kw, OH*OW): the window view copied once into matrix form."""
    N, C = xpad.shape[:2]
    return windows(xpad, k, s, d, o).reshape(N, C * k[0] * k[1], o[0] * o[1])


def col2im(cols, shape, k, s, d, o):
    """The adjoint of im2col: columns (N, C*kh*kw, OH*OW) added back into an array of the
    padded shape (N, C, Hp, Wp), one vectorised add per kernel offset."""
    N, C = shape[:2]
    cols = cols.reshape(N, C, k[0], k[1], o[0], o[1])
    disjoint = s[0] >= d[0] * (k[0] - 1) + 1 and s[1] >= d[1] * (k[1] - 1) + 1
    out = array_module(cols).zeros(shape, dtype=cols.dtype)
    for n, sl in offset_slices(k, s, d, o):
        i, j = divmod(n, k[1])
        if disjoint:  # windows do not overlap: each position is written once
            out[sl] = cols[:, :, i, j]
        else:
            out[sl] += cols[:, :, i, j]
    return out


def crop(a, pads, size):
    (pt, _), (pl, _) = pads
    if a.shape[2:] == tuple(size):
        return a
    return a[:, :, pt:pt + size[0], pl:pl + size[1]]


def inner_size(x_shape):
    return (1, x_shape[2]) if len(x_shape) == 3 else x_shape[2:]


def to4d(x, spatial):
    """1-D ops view (N, C, L) as (N, C, 1, L)."""
    return x[:, :, None, :] if spatial == 1 else x


def from4d(y, spatial):
    """The inverse of ``to4d``: a 1-D op's (N, C, 1, L) result as (N, C, L)."""
    return y[:, :, 0, :] if spatial == 1 else y


def unpad_grad(gpad, pads, x_shape):
    """dL/dx from the gradient of the padded input: the padding cropped off, in x's own shape
    (a 1-D op's x included)."""
    return crop(gpad, pads, inner_size(x_shape)).reshape(x_shape)


def grad_to4d(g):
    """An upstream gradient as 4-d: a 1-D op's (N, C, L) as (N, C, 1, L)."""
    return g[:, :, None, :] if g.ndim == 3 else g


# -- convolution -------------------------------------------------------------------------------

def flat_frame(x4, pads, k, d, batch_last=False):
    """Stride-1 layout: each padded image as one flat row of Hp*Wp values (plus d(kw-1) zeros of
    slack), so that every kernel offset reads ONE contiguous run of OH*Wp values.

    Returns (buf, Hp, Wp) with buf (A, C, frame, B): (N, C, frame, 1) per image, or with
    ``batch_last`` (1, C, frame, N), each frame position holding the whole batch."""
    (pt, pb), (pl, pr) = pads
    N, C, H, W = x4.shape
    Hp, Wp = H + pt + pb, W + pl + pr
    images = x4.transpose(1, 2, 3, 0)[None] if batch_last else x4[..., None]
    A, B = images.shape[0], images.shape[-1]
    buf = array_module(x4).zeros((A, C, Hp * Wp + d[1] * (k[1] - 1), B), dtype=x4.dtype)
    buf[:, :, :Hp * Wp].reshape(A, C, Hp, Wp, B)[:, :, pt:pt + H, pl:pl + W] = images
    return buf, Hp, Wp


def im2col_flat(buf, k, d, Wp, OH):
    """Columns (A, C*kh*kw, OH*Wp*B) of a ``flat_frame`` buffer: offset (i, j) is the run starting
    at i d Wp + j d. Each output row carries Wp - OW extra positions that wrap into the next row;
    the matrix product computes them and the caller drops them (the price of long contiguous
    copies)."""
    A, C, _, B = buf.shape
    sA, sC, sP, sB = buf.strides
    view = as_strided(buf, (A, C, k[0], k[1], OH * Wp, B),
                      (sA, sC, d[0] * Wp * sP, d[1] * sP, sP, sB), writeable=False)
    return view.reshape(A, C * k[0] * k[1], OH * Wp * B)


def col2im_flat(cols, k, d, Hp, Wp, OH):
    """The adjoint of im2col_flat: columns (A, C, kh, kw, OH*Wp, B) added into a (A, C, Hp, Wp, B)
    frame with one add of a contiguous run per kernel offset (OH*Wp*B values per channel with
    the batch last). The wrapped positions of ``cols`` must be zero (they are: they come from
    zeroed gradients)."""
    A, C, _, _, L, B = cols.shape
    out = array_module(cols).zeros((A, C, Hp * Wp + d[1] * (k[1] - 1), B), dtype=cols.dtype)
    for i in range(k[0]):
        for j in range(k[1]):
            off = i * d[0] * Wp + j * d[1]
            out[:, :, off:off + L] += cols[:, :, i, j]
    return out[:, :, :Hp * Wp].reshape(A, C, Hp, Wp, B)


class ConvReference(Op):
    """The lecture's convolution: pad, im2col, one matrix product per group, reshape.

    cols = im2col(x_pad), (N, C*kh*kw, OH*OW), split into G groups of K = C/G*kh*kw rows;
    per group Y_g = W_g cols_g (+ b), W_g the (O/G, K) weight rows of group g. Backward:
    dL/dW_g = sum_n dY_g,n cols_g,n^T,  dcols_g = W_g^T dY_g,  dL/dx = crop(col2im(dcols)),
    dL/db = dY summed over batch and positions. Same arguments as ``Conv``.
    """

    @staticmethod
    def forward(ctx, x, w, b, stride, pads, dilation, groups, spatial):
        x4, w4 = to4d(x, spatial), to4d(w, spatial)
        N, C, H, W = x4.shape
        O, Cg, kh, kw = w4.shape
        G, K, k = groups, Cg * kh * kw, (kh, kw)
        o = tuple(out_size(n, kk, ss, dd, lo, hi, op=f"conv{spatial}d")
                  for n, kk, ss, dd, (lo, hi) in zip((H, W), k, stride, dilation, pads))
        xpad = pad_array(x4, pads)
        cols = im2col(xpad, k, stride, dilation, o).reshape(N, G, K, o[0] * o[1])
        w_groups = w4.reshape(G, O // G, K)
        y = xp.matmul(w_groups, cols).reshape(N, O, o[0], o[1])      # Y_g = W_g cols_g
        if b is not None:
            y = y + b[:, None, None]
        ctx.cols, ctx.w_groups, ctx.pad_shape = cols, w_groups, xpad.shape
        ctx.geom = WindowGeometry(k, stride, dilation, o, pads)
        ctx.x_shape, ctx.w_shape = x.shape, w.shape
        return from4d(y, spatial)

    @staticmethod
    def backward(ctx, g):
        k, s, d, o, pads = ctx.geom
        cols, w_groups = ctx.cols, ctx.w_groups
        N, G, K, P = cols.shape
        need = ctx.needs_input_grad
        g4 = grad_to4d(g)
        g_groups = g4.reshape(N, G, -1, P)                            # dY_g, (N, G, O/G, P)
        gx = gw = gb = None
        if need[0]:
            gcols = xp.matmul(xp.swapaxes(w_groups, 1, 2), g_groups)  # W_g^T dY_g
            gpad = col2im(gcols.reshape(N, G * K, P), ctx.pad_shape, k, s, d, o)
            gx = unpad_grad(gpad, pads, ctx.x_shape)
        if need[1]:
            gw = xp.matmul(g_groups, xp.swapaxes(cols, 2, 3)).sum(axis=0).reshape(ctx.w_shape)
        if need[2]:
            gb = g4.sum(axis=(0, 2, 3))
        return gx, gw, gb, None, None, None, None, None


class Conv(Op):
    """y[n, o] = b[o] + sum_{c, i, j} w[o, c, i, j] x_pad[n, g(o) c, s h + d i, s w + d j].

    As matrices per group: Y = W X_col, with X_col = im2col(x);  dL/dW = sum_n dL/dY X_col^T,
    dL/dX = col2im(W^T dL/dY),  dL/db = sum of dL/dY over batch and positions.
    ``pads`` is ((top, bottom), (left, right)); ``spatial`` is 1 or 2. Unlike the twin,
    stride-1 convolutions use the flat-row columns of ``im2col_flat`` (long contiguous copies
    and adds), batch-last when an image has few positions (see the module docstring); with
    compiled kernels, the exact columns of ``conv_columns``.
    """

    reference = ConvReference

    @staticmethod
    def forward(ctx, x, w, b, stride, pads, dilation, groups, spatial):
        x4, w4 = to4d(x, spatial), to4d(w, spatial)
        N, C, H, W = x4.shape
        O, Cg, kh, kw = w4.shape
        G = groups
        k = (kh, kw)
        o = tuple(out_size(n, kk, ss, dd, lo, hi, op=f"conv{spatial}d")
                  for n, kk, ss, dd, (lo, hi) in zip((H, W), k, stride, dilation, pads))
        if o[0] <= 0 or o[1] <= 0:
            raise RuntimeError(f"conv{spatial}d: input of shape {tuple(x.shape)} is too small for "
                               f"kernel {tuple(w.shape[2:])}; computed output size {o}")
        flat = stride == (1, 1)
        ctx.w4, ctx.w_shape, ctx.flat = w4, w.shape, flat
        ctx.x_shape, ctx.groups = x.shape, G
        ctx.geom = WindowGeometry(k, stride, dilation, o, pads)
        ctx.kernel_columns = conv_columns.usable(x4, w4)
        if ctx.kernel_columns:  # exact columns written by a compiled kernel (conv_columns)
            return from4d(conv_columns.columns_forward(ctx, x4, w4, b, ctx.geom, G), spatial)
        ctx.batch_last = flat and G == 1 and _few_positions(w4, o, W + sum(pads[1]))
        if ctx.batch_last:
            out = _flat_forward_batch_last(ctx, x4, w4, b, pads, dilation, o)
            return from4d(out, spatial)
        if flat:
            buf, Hp, Wp = flat_frame(x4, pads, k, dilation)
            cols = im2col_flat(buf, k, dilation, Wp, o[0])          # (N, C*kh*kw, OH*Wp)
            ctx.frame = (Hp, Wp)
        else:
            xpad = pad_array(x4, pads)
            cols = im2col(xpad, k, stride, dilation, o)             # (N, C*kh*kw, OH*OW)
            ctx.pad_shape = xpad.shape
        K = Cg * kh * kw
        if G == 1:
            out = blas.matmul(w4.reshape(O, K), cols)               # (N, O, P)
        else:
            cols = cols.reshape(N, G, K, -1)
            out = blas.matmul(w4.reshape(G, O // G, K), cols).reshape(N, O, -1)
        if b is not None:
            out += b[:, None]
        ctx.cols = cols
        if flat:
            out = out.reshape(N, O, o[0], ctx.frame[1])[:, :, :, :o[1]]
        else:
            out = out.reshape(N, O, o[0], o[1])
        return from4d(out, spatial)

    @staticmethod
    def backward(ctx, g):
        k, s, d, o, pads = ctx.geom
        G = ctx.groups
        O = ctx.w4.shape[0]
        N = g.shape[0]
        need = ctx.needs_input_grad
        cols = ctx.cols
        if ctx.kernel_columns:
            x4_shape = (N, ctx.w4.shape[1] * G) + inner_size(ctx.x_shape)
            gx, gw, gb = conv_columns.columns_backward(ctx, grad_to4d(g), ctx.w4, x4_shape,
                                                       ctx.geom, G, need)
            gx = None if gx is None else gx.reshape(ctx.x_shape)
            gw = None if gw is None else gw.reshape(ctx.w_shape)
            return gx, gw, gb, None, None, None, None, None
        gb = None
        if need[2]:
            gb = g.sum(axis=(0, 2) if g.ndim == 3 else (0, 2, 3))
        if ctx.batch_last:
            gx, gw = _flat_backward_batch_last(ctx, g, need)
            return gx, gw, gb, None, None, None, None, None
        if ctx.flat:  # back to flat rows, zero at the wrapped positions
            Hp, Wp = ctx.frame
            framed = array_module(g).zeros((N, O, o[0], Wp), dtype=g.dtype)
            framed[:, :, :, :o[1]] = grad_to4d(g)
            g = framed
        g3 = g.reshape(N, O, -1) if G == 1 else g.reshape(N, G, O // G, -1)
        gx = gw = None
        if need[1]:
            # sum_n dY_n X_col_n^T: a batch of products on the columns as they lie (contracting
            # batch and positions in one product would first copy the columns transposed).
            gw = blas.matmul(g3, xp.swapaxes(cols, -1, -2)).sum(axis=0)
            gw = gw.reshape(ctx.w_shape)
        if need[0]:
            if G == 1:
                gcols = blas.matmul(ctx.w4.reshape(O, -1).T, g3)
            else:
                gcols = blas.matmul(xp.swapaxes(ctx.w4.reshape(G, O // G, -1), 1, 2), g3)
            C = ctx.w4.shape[1] * G
            if ctx.flat:
                gcols = gcols.reshape(N, C, k[0], k[1], -1, 1)
                gpad = col2im_flat(gcols, k, d, Hp, Wp, o[0])[..., 0]
            else:
                gpad = col2im(gcols, ctx.pad_shape, k, s, d, o)
            gx = unpad_grad(gpad, pads, ctx.x_shape)
        return gx, gw, gb, None, None, None, None, None


def _few_positions(w4, o, padded_width):
    """Whether an image has fewer (flat-frame) output positions than the weight has entries.
    Then per-image products are too small for BLAS to run well (LeNet's second layer: 140
    positions against 16 x 150 weights; dL/dW took 1.16 ms as 64 products, 0.35 ms as one), so
    the convolution takes the batch-last layout of ``_flat_forward_batch_last``."""
    return o[0] * padded_width < w4.shape[0] * w4[0].size


def _flat_forward_batch_last(ctx, x4, w4, b, pads, d, o):
    """Stride-1 convolution with the batch as the innermost axis: the padded input framed as
    (C, frame, N), so every kernel offset's columns are C contiguous blocks of L*N values
    (L = OH*Wp flat-frame positions) and Y = W X_col is ONE product (O, K) x (K, L*N)."""
    N = x4.shape[0]
    O = w4.shape[0]
    buf, Hp, Wp = flat_frame(x4, pads, w4.shape[2:], d, batch_last=True)
    cols = im2col_flat(buf, w4.shape[2:], d, Wp, o[0])[0]               # (K, L*N)
    y = blas.matmul(w4.reshape(O, -1), cols).reshape(O, o[0], Wp, N)[:, :, :o[1]].transpose(3, 0, 1, 2)
    out = array_module(y).empty((N, O) + tuple(o), dtype=y.dtype)
    if b is None:
        out[...] = y
    else:
        xp.add(y, b[:, None, None], out=out)
    ctx.cols, ctx.frame = cols, (Hp, Wp)
    return out


def _flat_backward_batch_last(ctx, g, need):
    """The backward of ``_flat_forward_batch_last``: with dL/dY as (O, L*N), dL/dW is one
    product with the columns, and dL/dX_col = W^T dL/dY one product whose rows, per kernel
    offset, are (C, L, N) blocks that col2im adds into the (C, frame, N) input gradient as C
    contiguous runs of L*N values."""
    k, _, d, o, pads = ctx.geom
    Hp, Wp = ctx.frame
    w4, cols = ctx.w4, ctx.cols
    O, C, kh, kw = w4.shape
    N = g.shape[0]
    L = o[0] * Wp
    gT = array_module(g).zeros((O, o[0], Wp, N), dtype=g.dtype)  # zero at the wrapped positions
    g4 = grad_to4d(g)
    gT[:, :, :o[1], :] = g4.transpose(1, 2, 3, 0)
    gT = gT.reshape(O, L * N)
    gx = gw = None
    if need[1]:
        gw = blas.matmul(cols, gT.T).T.reshape(ctx.w_shape)
    if need[0]:
        gcols = blas.matmul(w4.reshape(O, -1).T, gT).reshape(1, C, kh, kw, L, N)
        gpad = col2im_flat(gcols, k, d, Hp, Wp, o[0])[0].transpose(3, 0, 1, 2)
        gx = crop(gpad, pads, inner_size(ctx.x_shape))
        gx = contiguous(gx).reshape(ctx.x_shape)
    return gx, gw


class ConvTranspose(Op):
    """The adjoint of Conv with respect to its input (a "deconvolution"), plus a bias.

    Per group: Y = col2im(W^T X) cropped by ``padding``;  dL/dX = W im2col(dL/dY_pad),
    dL/dW = sum_n X_n im2col(dL/dY_pad)_n^T,  dL/db = sum of dL/dY over batch and positions.
    ``w`` has PyTorch's layout (C_in, C_out/groups, kh, kw).
    """

    @staticmethod
    def forward(ctx, x, w, b, stride, padding, output_padding, dilation, groups, spatial):
        x4, w4 = to4d(x, spatial), to4d(w, spatial)
        N, Ci, H, W = x4.shape
        _, Cog, kh, kw = w4.shape
        G = groups
        k = (kh, kw)
        full = tuple((n - 1) * ss + dd * (kk - 1) + 1 + op_
                     for n, ss, dd, kk, op_ in zip((H, W), stride, dilation, k, output_padding))
        size = tuple(f - 2 * p for f, p in zip(full, padding))
        if size[0] <= 0 or size[1] <= 0:
            raise RuntimeError(f"conv_transpose{spatial}d: padding {padding} leaves no output for "
                               f"input {tuple(x.shape)} and kernel {tuple(w.shape[2:])}")
        x3 = x4.reshape(N, G, Ci // G, H * W)
        wg = w4.reshape(G, Ci // G, Cog * kh * kw)
        cols = blas.matmul(xp.swapaxes(wg, 1, 2), x3)               # (N, G, Cog*K, HW)
        pads = tuple((p, p) for p in padding)
        Co = Cog * G
        y = col2im(cols, (N, Co) + full, k, stride, dilation, (H, W))
        y = y[:, :, padding[0]:padding[0] + size[0], padding[1]:padding[1] + size[1]]
        if b is not None:
            y = y + b[:, None, None]
        else:
            y = contiguous(y)
        ctx.x3, ctx.wg, ctx.groups, ctx.full = x3, wg, G, full
        ctx.geom = WindowGeometry(k, stride, dilation, (H, W), pads)
        ctx.x_shape, ctx.w_shape = x.shape, w.shape
        return from4d(y, spatial)

    @staticmethod
    def backward(ctx, g):
        k, s, d, o, pads = ctx.geom
        G, full = ctx.groups, ctx.full
        need = ctx.needs_input_grad
        g4 = grad_to4d(g)
        N, Co = g4.shape[:2]
        gpad = pad_array(g4, pads, extent=full)
        gcols = im2col(gpad, k, s, d, o).reshape(N, G, -1, o[0] * o[1])   # (N, G, Cog*K, HW)
        gx = gw = gb = None
        if need[2]:
            gb = g4.sum(axis=(0, 2, 3))
        if need[0]:
            gx = blas.matmul(ctx.wg, gcols).reshape(ctx.x_shape)
        if need[1]:
            gw = xp.einsum("ngcp,ngkp->gck", ctx.x3, gcols, optimize=True).reshape(ctx.w_shape)
        return gx, gw, gb, None, None, None, None, None, None
