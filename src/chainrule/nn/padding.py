"""Padding layers (``torch.nn.ReflectionPad2d`` ...): each is ``F.pad`` with its mode.

``padding`` is an int (the same on every side) or a tuple ``(left, right[, top, bottom])`` for
the last one or two dimensions, as in PyTorch."""
from . import functional as F
from .module import Module


class _PadNd(Module):
    mode, dims = "constant", 1

    def __init__(self, padding, value=0.0):
        super().__init__()
        if isinstance(padding, int):
            padding = (padding,) * (2 * self.dims)
        padding = tuple(int(p) for p in padding)
        if len(padding) != 2 * self.dims:
            raise ValueError(f"{type(self).__name__}: padding must be an int or a tuple of "
                             f"{2 * self.dims} ints, got {padding}")
        self.padding, self.value = padding, value

    def forward(self, input):
        if input.ndim not in (self.dims + 1, self.dims + 2):
            raise ValueError(f"{type(self).__name__}: expected {self.dims + 1}D or {self.dims + 2}D "
                             f"input, got shape {tuple(input.shape)}")
        return F.pad(input, self.padding, self.mode, self.value if self.mode == "constant" else None)

    def extra_repr(self):
        return f"padding={self.padding}, value={self.value}" if self.mode == "constant" else f"{self.padding}"


class ReflectionPad1d(_PadNd):
    """Pads by mirroring the input at its edges (the edge itself not repeated)."""
    mode, dims = "reflect", 1


class ReflectionPad2d(_PadNd):
    """Pads height and width by mirroring the input at its edges."""
    mode, dims = "reflect", 2


class ReplicationPad1d(_PadNd):
    """Pads by repeating the edge values."""
    mode, dims = "replicate", 1


class ReplicationPad2d(_PadNd):
    """Pads height and width by repeating the edge values."""
    mode, dims = "replicate", 2


class ConstantPad1d(_PadNd):
    """Pads with ``value``."""
    dims = 1


class ConstantPad2d(_PadNd):
    """Pads height and width with ``value``."""
    dims = 2


class ZeroPad1d(ConstantPad1d):
    """Pads with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"


class ZeroPad2d(ConstantPad2d):
    """Pads height and width with zeros."""

    def __init__(self, padding):
        super().__init__(padding, 0.0)

    def extra_repr(self):
        return f"{self.padding}"
