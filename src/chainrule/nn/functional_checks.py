"""Errors ``nn.functional`` raises for arguments of the wrong kind, worded as PyTorch's, with the fix.

They are built only once a call has failed (or a cheap test has), so the functions' fast paths pay
nothing for them.
"""
import numpy as np

from ..tensor import Tensor

# PyTorch's names for the scalar types, as its dtype errors print them ("got Double and Float").
SCALAR_TYPE_NAMES = {"float64": "Double", "float32": "Float", "float16": "Half",
                     "bfloat16": "BFloat16", "int64": "Long", "int32": "Int", "int16": "Short",
                     "int8": "Char", "uint8": "Byte", "bool": "Bool", "complex64": "ComplexFloat",
                     "complex128": "ComplexDouble"}


def scalar_type_name(dtype):
    """PyTorch's name for a NumPy dtype: float64 -> "Double"."""
    name = np.dtype(dtype).name
    return SCALAR_TYPE_NAMES.get(name, name)


def not_a_tensor(op, value, argument="input", position=1):
    """The TypeError for ``value`` given where ``op`` takes a Tensor, saying how to make one."""
    kind = type(value)
    got = kind.__qualname__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__qualname__}"
    if isinstance(value, np.ndarray):
        fix = "make one with cr.tensor(x) (a copy) or cr.from_numpy(x) (sharing x's memory)"
    else:
        fix = "make one with cr.tensor(x)"
    return TypeError(f"{op}(): argument '{argument}' (position {position}) must be Tensor, not "
                     f"{got}; {fix}")


def check_tensors(op, *arguments):
    """Raise ``not_a_tensor`` for the first of ``(name, value)`` that is not a Tensor (None passes:
    an optional argument left out)."""
    for position, (name, value) in enumerate(arguments, 1):
        if value is not None and not isinstance(value, Tensor):
            raise not_a_tensor(op, value, name, position)


def dtype_mismatch(op, first, second, first_dtype, second_dtype, fix):
    """The RuntimeError for two arguments of ``op`` that must share a dtype and do not."""
    return RuntimeError(f"{op}(): {first} and {second} must have the same dtype, but got "
                        f"{scalar_type_name(first_dtype)} and {scalar_type_name(second_dtype)} "
                        f"({np.dtype(first_dtype).name} and {np.dtype(second_dtype).name}); {fix}")
