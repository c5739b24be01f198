"""Data types: thin named wrappers around NumPy dtypes, printed as PyTorch prints its own."""
import builtins

import numpy as np


class dtype:
    """A tensor element type (``chainrule.float32`` ...), backed by a NumPy dtype.

    ``bfloat16`` has no NumPy dtype of its own: the ``ml_dtypes`` package (the ``amp`` extra)
    provides it, imported the first time a bfloat16 tensor is made.
    """

    __slots__ = ("name", "_np", "is_floating_point", "is_signed", "itemsize")

    def __init__(self, name, np_dtype, is_floating_point=None, itemsize=None):
        self.name = name
        self._np = None if np_dtype is None else np.dtype(np_dtype)
        kind = "f" if is_floating_point else self._np.kind
        self.is_floating_point = kind == "f"
        self.is_signed = kind in "fi"
        self.itemsize = itemsize or self._np.itemsize

    @property
    def np(self):
        if self._np is None:
            self._np = _load_extension_dtype(self)
        return self._np

    @property
    def is_complex(self):
        return False

    def __repr__(self):
        return f"chainrule.{self.name}"

    def __reduce__(self):
        return (_by_name, (self.name,))


float16 = half = dtype("float16", np.float16)
float32 = float = dtype("float32", np.float32)
float64 = double = dtype("float64", np.float64)
uint8 = dtype("uint8", np.uint8)
int8 = dtype("int8", np.int8)
int16 = short = dtype("int16", np.int16)
int32 = int = dtype("int32", np.int32)
int64 = long = dtype("int64", np.int64)
bool = dtype("bool", np.bool_)

bfloat16 = dtype("bfloat16", None, is_floating_point=True, itemsize=2)

ALL = (float16, float32, float64, uint8, int8, int16, int32, int64, bool)
_FROM_NP = {d.np: d for d in ALL}
_BY_NAME = {d.name: d for d in ALL + (bfloat16,)}

# NumPy dtypes of floating-point kind that NumPy does not mark "f" (ml_dtypes' bfloat16, once
# loaded): code that asks "is this a float array?" checks this set after ``kind == "f"``.
EXTRA_FLOAT_NP = set()


def _load_extension_dtype(d):
    try:
        import ml_dtypes
    except ImportError:
        raise TypeError(f"chainrule.{d.name} tensors need the ml_dtypes package (NumPy has no "
                        f"{d.name}): pip install ml_dtypes, or chainrule[amp]") from None
    nd = np.dtype(getattr(ml_dtypes, d.name))
    _FROM_NP[nd] = d
    EXTRA_FLOAT_NP.add(nd)
    return nd


def is_float_np(nd):
    """True for a floating-point NumPy dtype, bfloat16 included."""
    return nd.kind == "f" or nd in EXTRA_FLOAT_NP

_default_float = float32


def _by_name(name):
    return _BY_NAME[name]


def from_numpy_dtype(np_dtype):
    """The chainrule dtype for a NumPy dtype; raise TypeError for unsupported ones."""
    try:
        return _FROM_NP[np_dtype]
    except KeyError:
        if getattr(np_dtype, "name", None) == "bfloat16":
            bfloat16.np
            return bfloat16
        raise TypeError(f"chainrule: NumPy dtype {np_dtype} is not supported; "
                        f"expected one of {[d.name for d in ALL]}") from None


def to_numpy_dtype(d):
    """Accept a chainrule dtype, a NumPy dtype, a Python type or a name and return a NumPy dtype."""
    if d is None:
        return None
    if type(d) is dtype:
        return d.np
    if d is builtins.float:
        return np.dtype(np.float64)
    if d is builtins.int:
        return np.dtype(np.int64)
    if d is builtins.bool:
        return np.dtype(np.bool_)
    if isinstance(d, str) and d in _BY_NAME:
        return _BY_NAME[d].np
    if getattr(d, "__name__", None) == "bfloat16" or getattr(d, "name", None) == "bfloat16":
        return bfloat16.np
    try:
        nd = np.dtype(d)
    except TypeError:
        raise TypeError(f"chainrule: {d!r} is not a dtype; expected one of "
                        f"{[x.name for x in ALL]}") from None
    from_numpy_dtype(nd)
    return nd


def get_default_dtype():
    """The dtype Python floats become (float32 unless changed), as ``torch.get_default_dtype``."""
    return _default_float


def set_default_dtype(d):
    """Set the dtype Python floats become: float32 or float64."""
    global _default_float
    nd = to_numpy_dtype(d)
    if nd.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating-point dtype, got {d!r}")
    _default_float = _FROM_NP[nd]


def default_float_np():
    return _default_float.np
