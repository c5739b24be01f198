"""``Linear`` (dense, fully connected), ``Identity`` and ``Maxout``."""

import numpy as np

from .. import _dtype
from . import functional as F, init
from .module import Module
from .parameter import Parameter


class Identity(Module):
    """Returns its input unchanged (the "linear" activation); accepts and ignores any arguments."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Linear(Module):
    """y = x W^T + b, with W of shape (out_features, in_features) and b of shape (out_features,):
    in_features * out_features + out_features parameters.

    Default initialisation as PyTorch: W ~ U(-1/sqrt(in), 1/sqrt(in)) (Kaiming-uniform with
    a = sqrt(5)), b ~ U(-1/sqrt(in), 1/sqrt(in)). Input (..., in_features), output
    (..., out_features).
    """

    def __init__(self, in_features, out_features, bias=True, device=None, dtype=None):
        super().__init__()
        nd = _dtype.to_numpy_dtype(dtype) or _dtype.default_float_np()
        self.in_features = in_features
        self.out_features = out_features
        self.weight = Parameter(np.empty((out_features, in_features), dtype=nd))
        if bias:
            self.bias = Parameter(np.empty(out_features, dtype=nd))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        init._default_layer_init_(self.weight, self.bias)

    def forward(self, input):
        return F.linear(input, self._parameters["weight"], self._parameters["bias"])

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Maxout(Module):
    """Maxout (Goodfellow et al. 2013): out_features units, each the max of ``pieces`` linear
    pieces: y_j = max_k (x W_{j,k}^T + b_{j,k}). PyTorch has none; the weight is stored as one
    (out_features * pieces, in_features) matrix (rows j*pieces ... j*pieces + pieces - 1 belong
    to unit j), initialised as Linear's."""

    def __init__(self, in_features, out_features, pieces, bias=True, device=None, dtype=None):
        super().__init__()
        if pieces < 1:
            raise ValueError(f"Maxout: pieces must be at least 1, got {pieces}")
        nd = _dtype.to_numpy_dtype(dtype) or _dtype.default_float_np()
        self.in_features, self.out_features, self.pieces = in_features, out_features, pieces
        rows = out_features * pieces
        self.weight = Parameter(np.empty((rows, in_features), dtype=nd))
        if bias:
            self.bias = Parameter(np.empty(rows, dtype=nd))
        else:
            self.register_parameter("bias", None)
        Linear.reset_parameters(self)

    def forward(self, input):
        return F.maxout(F.linear(input, self._parameters["weight"], self._parameters["bias"]),
                        self.pieces)

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"pieces={self.pieces}, bias={self.bias is not None}")
