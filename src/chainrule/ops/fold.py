"""Unfold (im2col) and fold (col2im) as ops: the sliding-window columns of ``conv`` exposed.

The ops take kernel, stride, padding, dilation in that order, as Conv and the pooling ops do;
``nn.functional.unfold`` and ``fold`` keep PyTorch's (kernel_size, dilation, padding, stride)."""
from ..backend import contiguous, xp
from .base import Op
from .conv import WindowGeometry, col2im, crop, im2col, out_size, pad_array


class Unfold(Op):
    """y = im2col(x): (N, C, H, W) -> (N, C*kh*kw, L), L the number of windows;
    dL/dx = col2im(dL/dy) (``fold``)."""

    @staticmethod
    def forward(ctx, x, k, s, p, d):
        N, C, H, W = x.shape
        o = tuple(out_size(n, kk, ss, dd, pp, pp, op="unfold")
                  for n, kk, ss, dd, pp in zip((H, W), k, s, d, p))
        pads = ((p[0], p[0]), (p[1], p[1]))
        xpad = pad_array(x, pads)
        ctx.geom = WindowGeometry(k, s, d, o, pads)
        ctx.pad_shape, ctx.size = xpad.shape, (H, W)
        return im2col(xpad, k, s, d, o)

    @staticmethod
    def backward(ctx, g):
        k, s, d, o, pads = ctx.geom
        return crop(col2im(g, ctx.pad_shape, k, s, d, o), pads, ctx.size), None, None, None, None


class Fold(Op):
    """y = col2im(x): (N, C*kh*kw, L) summed into (N, C, H, W);  dL/dx = im2col(dL/dy)."""

    @staticmethod
    def forward(ctx, x, size, k, s, p, d):
        N, CK, L = x.shape
        kk = k[0] * k[1]
        if CK % kk:
            raise RuntimeError(f"fold: expected size of input's dimension 1 ({CK}) to be "
                               f"divisible by the product of kernel_size {k}")
        o = tuple(out_size(n, kz, ss, dd, pp, pp, op="fold")
                  for n, kz, ss, dd, pp in zip(size, k, s, d, p))
        if o[0] * o[1] != L:
            raise RuntimeError(f"fold: given output_size {tuple(size)}, kernel_size {k}, "
                               f"dilation {d}, padding {p}, stride {s}, expected input's "
                               f"dimension 2 to be {o[0] * o[1]}, but got {L}")
        pads = ((p[0], p[0]), (p[1], p[1]))
        shape = (N, CK // kk, size[0] + 2 * p[0], size[1] + 2 * p[1])
        ctx.geom = WindowGeometry(k, s, d, o, pads)
        return contiguous(crop(col2im(x, shape, k, s, d, o), pads, size))

    @staticmethod
    def backward(ctx, g):
        k, s, d, o, pads = ctx.geom
        gpad = pad_array(g, pads)
        return im2col(gpad, k, s, d, o), None, None, None, None, None
