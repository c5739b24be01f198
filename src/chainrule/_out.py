"""``out=``: write a result into a given tensor, as PyTorch's ``out=`` arguments do."""
import warnings

import numpy as np

from . import _dtype
from .autograd.grad_mode import state as _grad_state
from .autograd.tensor_base import TensorBase, increment_version


def check_out_grad(op, out, *inputs):
    """PyTorch's refusal: an ``out=`` result is not recorded, so no input may need a gradient."""
    if not _grad_state.enabled:
        return
    if out.requires_grad or any(isinstance(t, TensorBase) and t.requires_grad for t in inputs):
        raise RuntimeError(f"{op}(): functions with out=... arguments don't support automatic "
                           f"differentiation, but one of the arguments requires grad.")


def write_out(op, out, result):
    """Copy ``result`` (an array or tensor) into ``out`` and return ``out``; resize ``out`` when
    the shapes differ (warning unless it was empty), refuse a cast to a lower kind."""
    if not isinstance(out, TensorBase):
        raise TypeError(f"{op}(): argument 'out' must be a Tensor, got {type(out).__name__}")
    arr = result.array if isinstance(result, TensorBase) else np.asarray(result)
    target = out.array.dtype
    if not np.can_cast(arr.dtype, target, casting="same_kind") and not (
            _dtype.is_float_np(arr.dtype) and _dtype.is_float_np(target)):
        raise RuntimeError(f"{op}(): result type {_name(arr.dtype)} can't be cast to the desired "
                           f"output type {_name(target)}")
    if out.array.shape != arr.shape:
        if out.array.size:
            warnings.warn(f"{op}(): an output with one or more elements was resized since it had "
                          f"shape {list(out.array.shape)}, which does not match the required "
                          f"output shape {list(arr.shape)}", UserWarning, stacklevel=3)
        out.array = arr.astype(target, copy=True)
    else:
        np.copyto(out.array, arr, casting="unsafe")
    increment_version(out)
    return out


def _name(nd):
    return _dtype.from_numpy_dtype(nd).name
