"""Turning a user's index (``x[i, 1:3, mask]``) into one NumPy understands, with clear errors."""
import numpy as np

from . import _dtype
from .autograd.tensor_base import TensorBase


def index_arg(idx):
    """One component of an index, as NumPy takes it; float indices are rejected clearly."""
    if isinstance(idx, TensorBase):
        a = idx.array
        if a.dtype.kind not in "biu":
            raise IndexError(f"tensors used as indices must be long, int or bool tensors, got "
                             f"{_dtype._FROM_NP[a.dtype]}")
        return a
    if isinstance(idx, float):
        raise IndexError(f"indices must be ints, slices, None, Ellipsis, or int/bool tensors; "
                         f"got the float {idx}")
    if isinstance(idx, list):
        a = np.asarray(idx)
        if a.dtype.kind not in "biu" and a.size:
            raise IndexError(f"index lists must hold ints or bools, got {idx!r}")
        return a.astype(np.int64) if a.size == 0 else a
    if isinstance(idx, np.ndarray):
        if idx.dtype.kind not in "biu":
            raise IndexError(f"array indices must be int or bool, got {idx.dtype}")
        return idx
    return idx


def normalise_index(index):
    """The whole index as a tuple of NumPy index components."""
    if type(index) is tuple:
        return tuple(index_arg(i) for i in index)
    return (index_arg(index),)


def describe_index(index):
    """A normalised index written for an error message (arrays by shape and dtype)."""
    parts = []
    for i in index:
        if isinstance(i, np.ndarray):
            parts.append(f"array(shape={i.shape}, dtype={i.dtype})")
        else:
            parts.append(repr(i))
    return "[" + ", ".join(parts) + "]"
