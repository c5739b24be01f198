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


def split_integer_selects(index):
    """PyTorch applies plain integers in an index before any tensor index (as selects), so
    ``x[0, ::2, t, -2]`` keeps the tensor's dimension where it stands; NumPy counts integers as
    advanced indices and would move it to the front. For an index holding both, returns the two
    NumPy indices that give PyTorch's result applied one after the other, else None."""
    ints = [isinstance(i, (int, np.integer)) and not isinstance(i, bool) for i in index]
    arrays = [isinstance(i, np.ndarray) for i in index]
    if not any(ints) or not any(arrays):
        return None
    if any(a and (i.dtype.kind == "b" and i.ndim != 1) for a, i in zip(arrays, index)):
        return None  # a mask spanning several dimensions: keep NumPy's reading
    first = tuple(slice(None) if a else i for a, i in zip(arrays, index))
    second = tuple(i if a else (Ellipsis if i is Ellipsis else slice(None))
                   for i, a, n in zip(index, arrays, ints) if not n)
    return first, second
