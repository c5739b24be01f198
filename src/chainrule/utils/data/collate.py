"""``default_collate``: a list of samples stacked into one batch, as PyTorch does it."""
import collections.abc
import numbers

import numpy as np

from ...autograd.tensor_base import make_tensor
from ...tensor import Tensor


def default_collate(batch):
    """Stack a list of samples into a batch, as PyTorch does.

    Tensors and NumPy arrays are stacked along a new first dimension; Python ints become an int64
    tensor, floats a float64 tensor, bools a bool tensor; strings stay a list; dicts, tuples and
    lists are collated field by field (tuples and lists come back as lists).
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return make_tensor(np.stack([b.array for b in batch]))
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind not in "biuf":
            raise TypeError(f"default_collate: batches must contain tensors, NumPy arrays, numbers, "
                            f"dicts or lists; found an array of dtype {elem.dtype}")
        return make_tensor(np.stack(batch))
    if isinstance(elem, (bool, np.bool_)):
        return make_tensor(np.asarray(batch, dtype=np.bool_))
    if isinstance(elem, numbers.Integral):
        return make_tensor(np.asarray(batch, dtype=np.int64))
    if isinstance(elem, numbers.Real):
        return make_tensor(np.asarray(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(s) != len(elem) for s in batch):
            raise RuntimeError("default_collate: each element in list of batch should be of equal "
                               "size")
        return [default_collate(list(s)) for s in zip(*batch)]
    raise TypeError(f"default_collate: batches must contain tensors, NumPy arrays, numbers, dicts "
                    f"or lists; found {type(elem).__name__}")
