"""Compiled CPU kernels: one pass over memory where NumPy makes several.

NumPy runs ``m = b1 m + (1 - b1) g`` as three passes over arrays bigger than the caches; a
kernel compiled by Numba reads each element once and writes it once. Each kernel evaluates the
same operations in the same order and precision as the NumPy code it replaces (no fast-math, no
fused multiply-add), so results are bit-equal; the tests prove it.

The kernel modules hold plain Python loops (readable, and runnable without Numba); ``get``
compiles them with Numba on first use. Numba is optional (the ``fast`` extra). Without it,
with ``CHAINRULE_KERNELS=0``, or under ``cr.backends.reference()``, ``get(name)`` answers None
and callers run their NumPy passes.
Compiled code is cached on disk, so a process pays only a cache load after the first run.
"""
import contextlib
import os

import numpy as np

from ..backends.reference import is_reference_enabled
from . import blas
from . import activation_kernels, conv_kernels, optim_kernels, pooling_kernels, recurrent_kernels

_MODULES = (optim_kernels, activation_kernels, recurrent_kernels, conv_kernels, pooling_kernels)
# name -> the kernel as plain Python (each module's KERNELS), compiled on first use
_SOURCES = {name: fn for module in _MODULES for name, fn in module.KERNELS.items()}

_kernels = None   # name -> compiled function, once Numba has been imported (False: unavailable)
_switched_off = False


def _load():
    global _kernels
    if os.environ.get("CHAINRULE_KERNELS", "1").strip().lower() in ("0", "false", "no", "off"):
        _kernels = False
        return
    try:
        import numba
    except ImportError:   # Numba is not installed: the NumPy passes serve
        _kernels = False
        return
    # No fast-math: every operation rounds as NumPy's does. The error model "numpy" gives
    # NaN/inf for 0/0 and x/0 as NumPy does instead of raising.
    compile_ = numba.njit(cache=True, nogil=True, error_model="numpy")
    for module in _MODULES:  # helpers the kernels call must be compiled before them
        for name, fn in getattr(module, "HELPERS", {}).items():
            setattr(module, name, compile_(fn))
    _kernels = {name: compile_(fn) for name, fn in _SOURCES.items()}


def get(name):
    """The compiled kernel ``name``, or None where kernels are off or unavailable."""
    if _kernels is None:
        _load()
    if not _kernels or _switched_off or is_reference_enabled():
        return None
    return _kernels[name]


def available():
    """True when compiled kernels are in use (Numba importable, not switched off)."""
    if _kernels is None:
        _load()
    return bool(_kernels)


def warm_up():
    """Load Numba and the compiled kernels now (a one-time cost of a process, ~0.4 s and
    ~100 MB) rather than inside the first step that needs one; False when unavailable."""
    if get("sgd_momentum") is None:
        return False
    for dtype in (np.float32, np.float64):
        a = np.zeros(1, dtype)
        elementwise("relu_forward", a)
        elementwise("relu_backward", a, a, scalars=(0,))
        get("sgd_momentum")(a, a, a.copy(), dtype(0), dtype(0), dtype(1), False)
    blas.warm_up()
    return True


# The float dtypes the kernels compile for: Numba has no float16 (nor ml_dtypes' bfloat16),
# whose arrays keep their NumPy passes.
DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def on_host(*arrays):
    """True when every array is a NumPy array (the kernels are compiled for host memory)."""
    for a in arrays:   # a loop, not all(generator): this runs for every parameter every step
        if type(a) is not np.ndarray:
            return False
    return True


def flat(*arrays):
    """The arrays as 1-D views if all are host (NumPy) arrays, C-contiguous and of one shape and
    dtype (float32 or float64), else None (the kernels index them element by element; a CUDA
    array keeps its own library's path)."""
    first = arrays[0]
    shape, dtype = first.shape, first.dtype
    if dtype not in DTYPES:
        return None
    for a in arrays:
        if (type(a) is not np.ndarray or not a.flags.c_contiguous or a.shape != shape
                or a.dtype != dtype):
            return None
    return [a.reshape(-1) for a in arrays]


def elementwise(name, *arrays, min_size=0, scalars=()):
    """A new array like ``arrays[0]`` written by the elementwise kernel ``name`` over the
    arrays (C-contiguous, one shape and float dtype, at least ``min_size`` elements), the
    ``scalars`` cast to that dtype; None where the caller's NumPy code must run instead."""
    first = arrays[0]
    if first.size < min_size or first.dtype.kind != "f":
        return None
    kernel = get(name)
    views = kernel and flat(*arrays)
    if not views:
        return None
    out = np.empty_like(first)
    cast = first.dtype.type
    kernel(*views, out.reshape(-1), *(cast(s) for s in scalars))
    return out


@contextlib.contextmanager
def disabled():
    """Within the block every caller takes its NumPy passes (the tests compare the two)."""
    global _switched_off
    previous, _switched_off = _switched_off, True
    try:
        yield
    finally:
        _switched_off = previous
