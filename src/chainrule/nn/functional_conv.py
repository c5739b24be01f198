"""Convolution, pooling and fold/unfold functions (``torch.nn.functional`` names).

Argument names, defaults and shapes follow PyTorch; each function checks its input and calls one
op from ``chainrule.ops``' conv, pooling or fold.
"""
from ..ops import conv, pooling
from ..ops.fold import Fold, Unfold
from ..tensor import Tensor
from ..autograd.tensor_base import make_tensor
from .functional_checks import not_a_tensor

__all__ = ["conv1d", "conv2d", "conv_transpose1d", "conv_transpose2d", "max_pool1d",
           "max_pool2d", "avg_pool1d", "avg_pool2d", "adaptive_avg_pool1d", "adaptive_avg_pool2d",
           "adaptive_max_pool1d", "adaptive_max_pool2d",
           "unfold", "fold"]


def _tuple(value, n, name, op):
    if isinstance(value, (tuple, list)):
        if len(value) != n:
            raise ValueError(f"{op}: {name} must be an int or a tuple of {n} ints, got {value!r}")
        out = tuple(int(v) for v in value)
    else:
        out = (int(value),) * n
    return out


def _as2d(t, spatial, fill=1):
    """1-D arguments become the 2-D ones the ops use: a unit first axis (``fill`` for it)."""
    return (fill,) + t if spatial == 1 else t


def _check_input(input, spatial, op):
    if not isinstance(input, Tensor):
        raise not_a_tensor(op, input)
    if input.ndim not in (spatial + 1, spatial + 2):
        raise RuntimeError(f"{op}: expected a {spatial + 1}-D (unbatched) or {spatial + 2}-D "
                           f"(batched) input, got shape {tuple(input.shape)}")
    return input.ndim == spatial + 1


def _conv_padding(padding, k, s, d, spatial, op):
    """PyTorch's padding forms -> ((top, bottom), (left, right)) for the 2-D op."""
    if isinstance(padding, str):
        if padding == "valid":
            return ((0, 0), (0, 0))
        if padding != "same":
            raise ValueError(f"{op}: padding must be 'valid', 'same', an int or a tuple, "
                             f"got {padding!r}")
        if any(x != 1 for x in s):
            raise ValueError(f"{op}: padding='same' is not supported for strided convolutions "
                             f"(stride {s[-spatial:]})")
        pads = []
        for kk, dd in zip(k, d):
            total = dd * (kk - 1)
            pads.append((total // 2, total - total // 2))
        return tuple(pads)
    p = _as2d(_tuple(padding, spatial, "padding", op), spatial, 0)
    if any(x < 0 for x in p):
        raise RuntimeError(f"{op}: negative padding is not supported, got {padding!r}")
    return tuple((x, x) for x in p)


def _conv(input, weight, bias, stride, padding, dilation, groups, spatial):
    op = f"conv{spatial}d"
    unbatched = _check_input(input, spatial, op)
    if unbatched:
        input = input.unsqueeze(0)
    if weight.ndim != spatial + 2:
        raise RuntimeError(f"{op}: expected a {spatial + 2}-D weight (out_channels, "
                           f"in_channels/groups, kernel...), got shape {tuple(weight.shape)}")
    O, Cg = weight.shape[:2]
    C_in = input.shape[1]
    if groups < 1 or O % groups or Cg * groups != C_in:
        raise RuntimeError(f"{op}: Given groups={groups}, weight of size {list(weight.shape)}, "
                           f"expected input{list(input.shape)} to have {Cg * groups} channels, "
                           f"but got {C_in} channels instead")
    if input.dtype != weight.dtype:
        raise RuntimeError(f"{op}: input ({input.dtype}) and weight ({weight.dtype}) must have "
                           f"the same dtype")
    if bias is not None and tuple(bias.shape) != (O,):
        raise RuntimeError(f"{op}: bias must have shape ({O},), got {tuple(bias.shape)}")
    k = _as2d(tuple(weight.shape[2:]), spatial)
    s = _as2d(_tuple(stride, spatial, "stride", op), spatial)
    d = _as2d(_tuple(dilation, spatial, "dilation", op), spatial)
    if min(s) < 1 or min(d) < 1:
        raise RuntimeError(f"{op}: stride and dilation must be positive, got {stride}, {dilation}")
    pads = _conv_padding(padding, k, s, d, spatial, op)
    out = conv.Conv.apply(input, weight, bias, s, pads, d, groups, spatial)
    return out.squeeze(0) if unbatched else out


def conv1d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """1-D convolution (cross-correlation) of (N, C_in, L) with (C_out, C_in/groups, k)."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 1)


def conv2d(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1):
    """2-D convolution (cross-correlation) of (N, C_in, H, W) with (C_out, C_in/groups, kh, kw):
    out[n, o] = bias[o] + sum_c weight[o, c] * input[n, c] (im2col and one matrix product)."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, 2)


def _conv_transpose(input, weight, bias, stride, padding, output_padding, groups, dilation,
                    spatial):
    op = f"conv_transpose{spatial}d"
    unbatched = _check_input(input, spatial, op)
    if unbatched:
        input = input.unsqueeze(0)
    if weight.ndim != spatial + 2:
        raise RuntimeError(f"{op}: expected a {spatial + 2}-D weight (in_channels, "
                           f"out_channels/groups, kernel...), got shape {tuple(weight.shape)}")
    if weight.shape[0] != input.shape[1] or input.shape[1] % groups:
        raise RuntimeError(f"{op}: Given transposed=1, weight of size {list(weight.shape)}, "
                           f"expected input{list(input.shape)} to have {weight.shape[0]} "
                           f"channels, but got {input.shape[1]} channels instead")
    s = _as2d(_tuple(stride, spatial, "stride", op), spatial)
    p = _as2d(_tuple(padding, spatial, "padding", op), spatial, 0)
    op_ = _as2d(_tuple(output_padding, spatial, "output_padding", op), spatial, 0)
    d = _as2d(_tuple(dilation, spatial, "dilation", op), spatial)
    if any(a >= max(ss, dd) for a, ss, dd in zip(op_, s, d)):
        raise RuntimeError(f"{op}: output padding {output_padding} must be smaller than either "
                           f"stride {stride} or dilation {dilation}")
    out = conv.ConvTranspose.apply(input, weight, bias, s, p, op_, d, groups, spatial)
    return out.squeeze(0) if unbatched else out


def conv_transpose1d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """1-D transposed convolution; weight (C_in, C_out/groups, k)."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 1)


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1,
                     dilation=1):
    """2-D transposed convolution (the gradient of conv2d with respect to its input);
    weight (C_in, C_out/groups, kh, kw); output size (H-1)s - 2p + d(k-1) + output_padding + 1."""
    return _conv_transpose(input, weight, bias, stride, padding, output_padding, groups,
                           dilation, 2)


# -- pooling -----------------------------------------------------------------------------------

def _pool_args(kernel_size, stride, padding, dilation, spatial, op):
    k = _tuple(kernel_size, spatial, "kernel_size", op)
    s = k if stride is None or stride == [] or stride == () else \
        _tuple(stride, spatial, "stride", op)
    p = _tuple(padding, spatial, "padding", op)
    d = _tuple(dilation, spatial, "dilation", op)
    if min(k) < 1 or min(s) < 1 or min(d) < 1:
        raise RuntimeError(f"{op}: kernel_size, stride and dilation must be positive, got "
                           f"{kernel_size}, {stride}, {dilation}")
    if any(pp * 2 > kk for pp, kk in zip(p, k)):
        raise RuntimeError(f"{op}: pad should be at most half of effective kernel size, but got "
                           f"pad={padding}, kernel_size={kernel_size}")
    return _as2d(k, spatial), _as2d(s, spatial), _as2d(p, spatial, 0), _as2d(d, spatial)


def _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, spatial):
    op = f"max_pool{spatial}d"
    unbatched = _check_input(input, spatial, op)
    if unbatched:
        input = input.unsqueeze(0)
    k, s, p, d = _pool_args(kernel_size, stride, padding, dilation, spatial, op)
    out = pooling.MaxPool.apply(input, k, s, p, d, bool(ceil_mode), spatial)
    if return_indices:
        import numpy as np
        ctx = out.grad_fn
        if ctx is None:  # not recorded (no grad): recompute the bookkeeping on a scratch node
            ctx = pooling.MaxPool.__new__(pooling.MaxPool)
            pooling.MaxPool.forward(ctx, input.array, k, s, p, d, bool(ceil_mode), spatial)
        hw = (1, input.shape[2]) if spatial == 1 else tuple(input.shape[2:])
        idx = np.ascontiguousarray(pooling.MaxPool.indices(ctx, hw))
        if spatial == 1:
            idx = idx[:, :, 0, :]
        ind = make_tensor(idx)
        if unbatched:
            return out.squeeze(0), ind.squeeze(0)
        return out, ind
    return out.squeeze(0) if unbatched else out


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Maximum over sliding windows of (N, C, L); padding counts as -inf."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 1)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False,
               return_indices=False):
    """Maximum over sliding kh x kw windows of (N, C, H, W); padding counts as -inf; the
    gradient goes to the first maximum of each window."""
    return _max_pool(input, kernel_size, stride, padding, dilation, ceil_mode, return_indices, 2)


def _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
              divisor_override, spatial):
    op = f"avg_pool{spatial}d"
    unbatched = _check_input(input, spatial, op)
    if unbatched:
        input = input.unsqueeze(0)
    k, s, p, _ = _pool_args(kernel_size, stride, padding, 1, spatial, op)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError(f"{op}: divisor must be not zero")
    out = pooling.AvgPool.apply(input, k, s, p, bool(ceil_mode), bool(count_include_pad),
                          divisor_override, spatial)
    return out.squeeze(0) if unbatched else out


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True):
    """Average over sliding windows of (N, C, L)."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad, None, 1)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False,
               count_include_pad=True, divisor_override=None):
    """Average over sliding kh x kw windows of (N, C, H, W)."""
    return _avg_pool(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override, 2)


def adaptive_avg_pool1d(input, output_size):
    """Average pooling to ``output_size`` positions: bin i spans [floor(iL/m), ceil((i+1)L/m))."""
    _check_input(input, 1, "adaptive_avg_pool1d")
    (m,) = _tuple(output_size, 1, "output_size", "adaptive_avg_pool1d")
    a = pooling.adaptive_matrix(input.shape[-1], m, input.array.dtype)
    return pooling.Separable.apply(input, None, a)


def adaptive_avg_pool2d(input, output_size):
    """Average pooling to an (oh, ow) grid (None keeps that size): out = A_h x A_w^T, with A the
    bin-averaging matrices of PyTorch's bins [floor(i H/oh), ceil((i+1) H/oh))."""
    _check_input(input, 2, "adaptive_avg_pool2d")
    if isinstance(output_size, (tuple, list)):
        size = tuple(input.shape[-2 + i] if o is None else int(o)
                     for i, o in enumerate(output_size))
    else:
        size = (int(output_size),) * 2
    H, W = input.shape[-2:]
    if min(size) < 1:
        raise RuntimeError(f"adaptive_avg_pool2d: output_size must be positive, got {output_size}")
    dt = input.array.dtype
    a_h = None if size[0] == H else pooling.adaptive_matrix(H, size[0], dt)
    a_w = None if size[1] == W else pooling.adaptive_matrix(W, size[1], dt)
    if a_h is None and a_w is None:
        return input * 1
    return pooling.Separable.apply(input, a_h, a_w)


def _adaptive_size(output_size, shape, spatial, op):
    """output_size as a tuple (None keeps that input size), checked positive."""
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != spatial:
            raise ValueError(f"{op}: output_size must be an int or a tuple of {spatial} ints, "
                             f"got {output_size!r}")
        size = tuple(shape[i] if o is None else int(o) for i, o in enumerate(output_size))
    else:
        size = (int(output_size),) * spatial
    if min(size) < 1:
        raise RuntimeError(f"{op}: output_size must be positive, got {output_size}")
    return size


def _adaptive_max_pool(input, output_size, return_indices, spatial):
    op = f"adaptive_max_pool{spatial}d"
    unbatched = _check_input(input, spatial, op)
    x = input.unsqueeze(0) if unbatched else input
    if any(n == 0 for n in x.shape[2:]):
        raise RuntimeError(f"{op}: expected an input with non-zero spatial sizes, got shape "
                           f"{tuple(input.shape)}")
    size = _adaptive_size(output_size, tuple(x.shape[2:]), spatial, op)
    if spatial == 1:
        x, size = x.unsqueeze(2), (1,) + size
    rows, row_mask = pooling.adaptive_bins(x.shape[2], size[0])
    cols, col_mask = pooling.adaptive_bins(x.shape[3], size[1])
    out, indices = pooling.AdaptiveMaxPool.apply(x, rows, row_mask, cols, col_mask)
    if spatial == 1:
        out, indices = out.squeeze(2), indices.squeeze(2)
    if unbatched:
        out, indices = out.squeeze(0), indices.squeeze(0)
    return (out, indices) if return_indices else out


def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Maximum over ``output_size`` bins of (N, C, L) or (C, L): bin i spans
    [floor(iL/m), ceil((i+1)L/m)); ``return_indices`` also gives each maximum's position."""
    return _adaptive_max_pool(input, output_size, return_indices, 1)


def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Maximum over an (oh, ow) grid of PyTorch's adaptive bins of (N, C, H, W) or (C, H, W)
    (None keeps that size); ``return_indices`` also gives each maximum's flat index h * W + w."""
    return _adaptive_max_pool(input, output_size, return_indices, 2)


# -- fold / unfold -----------------------------------------------------------------------------

def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extract sliding local blocks: (N, C, H, W) -> (N, C * kh * kw, L) (im2col)."""
    op = "unfold"
    if input.ndim not in (3, 4):
        raise RuntimeError(f"{op}: expected a 3-D or 4-D input, got shape {tuple(input.shape)}")
    unbatched = input.ndim == 3
    if unbatched:
        input = input.unsqueeze(0)
    kernel, dilation, padding, stride = [
        _tuple(a, 2, n, op) for a, n in ((kernel_size, "kernel_size"), (dilation, "dilation"),
                                         (padding, "padding"), (stride, "stride"))]
    out = Unfold.apply(input, kernel, stride, padding, dilation)
    return out.squeeze(0) if unbatched else out


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sum sliding local blocks back into an image: (N, C * kh * kw, L) -> (N, C, H, W)
    (col2im, the adjoint of ``unfold``)."""
    op = "fold"
    if input.ndim not in (2, 3):
        raise RuntimeError(f"{op}: expected a 2-D or 3-D input, got shape {tuple(input.shape)}")
    unbatched = input.ndim == 2
    if unbatched:
        input = input.unsqueeze(0)
    size, kernel, dilation, padding, stride = [
        _tuple(a, 2, n, op) for a, n in ((output_size, "output_size"),
                                         (kernel_size, "kernel_size"), (dilation, "dilation"),
                                         (padding, "padding"), (stride, "stride"))]
    out = Fold.apply(input, size, kernel, stride, padding, dilation)
    return out.squeeze(0) if unbatched else out


# -- interpolation -----------------------------------------------------------------------------
