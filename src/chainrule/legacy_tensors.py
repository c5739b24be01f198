"""PyTorch's legacy typed constructors, still common in older tutorials: ``cr.FloatTensor([1, 2])``,
``cr.LongTensor(labels)``, ``cr.LongTensor(3, 4)`` (uninitialised, here zeros). Each is also a type
that ``isinstance`` checks by dtype, as in PyTorch: ``isinstance(cr.zeros(2), cr.FloatTensor)``."""
import numbers

import numpy as np

from . import _dtype
from .tensor import Tensor, Size


class _LegacyTensorType(type):
    def __instancecheck__(cls, obj):
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype

    def __repr__(cls):
        return f"<class 'chainrule.{cls.__name__}'>"


class _LegacyTensor(metaclass=_LegacyTensorType):
    dtype = None

    def __new__(cls, *args):
        from .creation import tensor, zeros
        if not args:
            return zeros(0, dtype=cls.dtype)
        if all(isinstance(a, numbers.Integral) and not isinstance(a, bool) for a in args):
            return zeros(*args, dtype=cls.dtype)          # sizes, as LongTensor(3, 4)
        if len(args) == 1 and isinstance(args[0], Size):
            return zeros(*args[0], dtype=cls.dtype)
        if len(args) == 1:
            data = args[0]
            if isinstance(data, np.ndarray) and data.dtype.kind not in "biuf":
                raise TypeError(f"{cls.__name__}: expected numeric data, got a NumPy array of {data.dtype}")
            return tensor(data, dtype=cls.dtype)
        raise TypeError(f"{cls.__name__}: expected sizes (ints) or one sequence of data, got {args!r}")


def _legacy(name, dtype):
    return _LegacyTensorType(name, (_LegacyTensor,), {"dtype": dtype, "__doc__":
                             f"``cr.{name}(data)`` is ``cr.tensor(data, dtype={dtype})``; "
                             f"``cr.{name}(*sizes)`` a zero tensor of that size."})


FloatTensor = _legacy("FloatTensor", _dtype.float32)
DoubleTensor = _legacy("DoubleTensor", _dtype.float64)
LongTensor = _legacy("LongTensor", _dtype.int64)
IntTensor = _legacy("IntTensor", _dtype.int32)
ByteTensor = _legacy("ByteTensor", _dtype.uint8)
BoolTensor = _legacy("BoolTensor", _dtype.bool)

__all__ = ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "ByteTensor", "BoolTensor"]
