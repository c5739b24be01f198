"""Moving a tensor between devices, as an op in the graph (PyTorch's ``ToCopyBackward0``)."""
from ..backend import device_of, to_device
from .base import Op


class ToCopy(Op):
    """y = x on another device;  dL/dx = dL/dy copied back to x's device."""

    @staticmethod
    def forward(ctx, x, device_type, index):
        ctx.source = device_of(x)
        return to_device(x, device_type, index)

    @staticmethod
    def backward(ctx, g):
        return to_device(g, *ctx.source), None, None
