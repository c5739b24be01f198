"""Flatten parameters into one vector and back (for line searches, second-order methods, ...)."""
import numpy as np

from ...autograd.grad_mode import no_grad
from ...autograd.tensor_base import increment_version
from ...tensor import Tensor


def parameters_to_vector(parameters):
    """One 1-D tensor holding every parameter, flattened and concatenated in order
    (differentiable, as in PyTorch)."""
    from ...functions import cat
    params = list(parameters)
    if not params:
        raise RuntimeError("parameters_to_vector: no parameters given")
    return cat([p.reshape(-1) for p in params])


def vector_to_parameters(vec, parameters):
    """Copy consecutive slices of the 1-D tensor ``vec`` into ``parameters`` (in place)."""
    if not isinstance(vec, Tensor):
        raise TypeError(f"expected chainrule.Tensor, but got: {type(vec).__name__}")
    params = list(parameters)
    total = sum(p.numel() for p in params)
    if vec.ndim != 1 or vec.numel() != total:
        raise RuntimeError(f"vector_to_parameters: expected a 1-D vector of {total} elements "
                           f"(the parameters' total), got shape {tuple(vec.shape)}")
    src = vec.array
    offset = 0
    with no_grad():
        for p in params:
            n = p.numel()
            np.copyto(p.array, src[offset:offset + n].reshape(p.array.shape), casting="unsafe")
            increment_version(p)
            offset += n
