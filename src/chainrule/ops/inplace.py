"""The ops that only in-place writes record (``x.zero_()``, ``x.copy_(y)``, ``x[i] = v`` on a
tensor in a graph). The other in-place methods (``add_``, ``relu_``...) record their out-of-place
op; ``Tensor._record_inplace`` makes the tensor take the node.
"""
from ..backend import array_module, xp
from .base import Op


class Fill(Op):
    """y = value everywhere (``fill_``, ``zero_``);  dL/dx = 0 (x's values are overwritten),
    dL/dvalue = sum of dL/dy when the value is a 0-d tensor."""

    @staticmethod
    def forward(ctx, a, value, zero):
        return xp.full_like(a, value)

    @staticmethod
    def backward(ctx, g):
        return xp.zeros_like(g), g.sum(), None


class CopyFrom(Op):
    """y = src broadcast to x's shape and cast to x's dtype (``x.copy_(src)``);  dL/dx = 0,
    dL/dsrc = dL/dy (the engine sums it back over the broadcast axes and casts it)."""

    @staticmethod
    def forward(ctx, a, src):
        return array_module(a).array(xp.broadcast_to(src, a.shape), dtype=a.dtype)

    @staticmethod
    def backward(ctx, g):
        return xp.zeros_like(g), g


class SetItem(Op):
    """y = x with y[index] = value (``x[index] = value``);  dL/dx = dL/dy with the written
    positions zeroed, dL/dvalue = dL/dy[index] (summed back over the axes value broadcast)."""

    @staticmethod
    def forward(ctx, a, value, index):
        ctx.index = index
        out = a.copy()
        out[index] = value
        return out

    @staticmethod
    def backward(ctx, g):
        g = xp.asarray(g)                   # a 0-d gradient can arrive as a NumPy scalar
        ga = g.copy()
        ga[ctx.index] = 0
        return ga, g[ctx.index], None
