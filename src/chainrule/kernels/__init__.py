"""Compiled CPU kernels: one pass over memory where NumPy makes several.

NumPy runs ``m = b1 m + (1 - b1) g`` as three passes over arrays bigger than the caches; a
kernel compiled by Numba reads each element once and writes it once. Each kernel evaluates the
same operations in the same order and precision as the NumPy code it replaces (no fast-math, no
fused multiply-add), so results are bit-equal; the tests prove it. The one exception is a
product, ``linear_kernels.row_products``, whose sums may be split into vector lanes as BLAS
splits them (its module's ``FASTMATH``): it agrees with NumPy's product to rounding.

The kernel modules hold plain Python loops (readable, and runnable without Numba); ``get``
compiles them with Numba on first use. Numba is optional (the ``fast`` extra). Without it,
with ``CHAINRULE_KERNELS=0``, or under ``cr.backends.reference()``, ``get(name)`` answers None
and callers run their NumPy passes.
Compiled code is cached on disk, so a process pays only a cache load after the first run.
"""
import contextlib
import os
import types

import numpy as np

from ..backends import onednn
from ..backends.reference import is_reference_enabled
from . import blas, onednn_matmul
from . import parallel as _threads
from . import (activation_kernels, conv_kernels, embedding_kernels, linear_kernels, loss_kernels,
               optim_kernels, pooling_kernels, recurrent_kernels)

_MODULES = (optim_kernels, activation_kernels, linear_kernels, recurrent_kernels, conv_kernels,
            pooling_kernels, embedding_kernels, loss_kernels)
# name -> the kernel as plain Python (each module's KERNELS), compiled on first use
_SOURCES = {name: fn for module in _MODULES for name, fn in module.KERNELS.items()}

_kernels = None   # name -> compiled function, once Numba has been imported (False: unavailable)
_parallel = {}    # name -> its parallel build (the kernel modules' PARALLEL)
# Arrays from this many elements take a kernel's parallel build: below it, waking the second
# thread costs more than it saves (see parallel.py).
PARALLEL_MIN = 1 << 16
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
    options = dict(cache=True, nogil=True, error_model="numpy")
    fastmath = {name: flags for module in _MODULES
                for name, flags in getattr(module, "FASTMATH", {}).items()}

    def compile_(fn, name, **more):
        return numba.njit(fastmath=fastmath.get(name, False), **options, **more)(fn)
    for module in _MODULES:  # helpers the kernels call must be compiled before them
        module.prange = numba.prange
        for name, fn in getattr(module, "HELPERS", {}).items():
            setattr(module, name, compile_(fn, name))
    _kernels = {name: compile_(fn, name) for name, fn in _SOURCES.items()}
    for module in _MODULES:
        for name in getattr(module, "PARALLEL", ()):
            _parallel[name] = compile_(_renamed(module.KERNELS[name], name + "_parallel"), name,
                                       parallel=True)
    _threads.prepare(numba, _parallel)


def _renamed(fn, name):
    """A copy of ``fn`` under another name: Numba caches each build under its function's
    qualified name, so the parallel build needs its own."""
    copy = types.FunctionType(fn.__code__, fn.__globals__, name, fn.__defaults__, fn.__closure__)
    copy.__qualname__ = fn.__qualname__.rsplit(".", 1)[0] + "." + name if "." in fn.__qualname__ \
        else name
    copy.__module__, copy.__doc__ = fn.__module__, fn.__doc__
    return copy


def get(name, size=0):
    """The compiled kernel ``name``, or None where kernels are off or unavailable; its parallel
    build where it has one and ``size`` (the elements it will touch) is at least
    ``PARALLEL_MIN`` and threads are on (``_threads``)."""
    if _kernels is None:
        _load()
    if not _kernels or _switched_off or is_reference_enabled():
        return None
    if size >= PARALLEL_MIN and name in _parallel and (
            _threads.on or _threads.on is None and _threads.start()):
        return _parallel[name]
    return _kernels[name]


def switches():
    """What ``get``'s and ``get_lazily``'s answers depend on besides their arguments: whether the
    kernels are loaded, switched off or under the reference switch, and whether the threads are
    on. A caller that keeps the kernels it got asks again when this changes."""
    return bool(_kernels), _switched_off, is_reference_enabled(), _threads.on


def loaded():
    """True when Numba and the kernels are loaded already (asks without loading them)."""
    return bool(_kernels) and not _switched_off and not is_reference_enabled()


# A call of a kernel on fewer elements than this does not load Numba for it (0.3 s and ~100 MB
# once, for well under a microsecond a call; a small model may never need it): it takes the
# kernel once something else loaded it, and its NumPy passes before
LOAD_MIN = 1 << 12


def get_lazily(name, size):
    """``get(name, size)``, except that a call of fewer than ``LOAD_MIN`` elements answers None
    rather than load the kernels."""
    return get(name, size) if size >= LOAD_MIN or loaded() else None


def available():
    """True when compiled kernels are in use (Numba importable, not switched off)."""
    if _kernels is None:
        _load()
    return bool(_kernels)


def warm_up():
    """Load Numba and every compiled kernel, serial and parallel builds, now (a one-time cost of
    a process, ~0.5 s and ~100 MB) rather than inside the first step that needs one; False when
    unavailable."""
    if get("sgd_momentum") is None:
        return False
    for table in (_kernels, _parallel):
        for dtype in DTYPES:
            _call_each(table, dtype.type)
    blas.warm_up()
    onednn.library()    # the LSTM's library: 21 MB of code paged in, once
    onednn_matmul.warm_up()
    return True


def _call_each(table, dtype):
    """Every kernel of ``table`` once on one-element arrays of ``dtype``, with the argument types
    of its callers (so that Numba loads the very builds they will use)."""
    one = np.zeros(1, dtype)
    a4 = np.zeros((1, 1, 1, 1), dtype)
    won = np.zeros((1, 1, 1, 1), np.uint8)
    zero = dtype(0)
    calls = {
        "relu_forward": (one, one.copy()),
        "relu_backward": (one, one, one.copy(), zero),
        "bias_add": (np.zeros((1, 1), dtype), one),
        "bias_relu": (np.zeros((1, 1), dtype), one),
        "row_products": (np.zeros((1, 1), dtype), np.zeros((1, 1), dtype), one,
                         np.zeros((1, 1), dtype), False),
        "sgd": (one.copy(), one, zero),
        "sgd_momentum": (one.copy(), one, one.copy(), zero, zero, dtype(1), False),
        "adam": (one.copy(), one, one.copy(), one.copy(), one.copy(), zero, zero, zero, zero,
                 dtype(1), zero, False),
        "batch_first": (np.zeros((1, 1, 1), dtype), one, True, np.zeros((1, 1, 1), dtype)),
        "max_pool_2x2": (np.zeros((1, 1, 2, 2), dtype), a4.copy(), won.copy()),
        "max_pool": (a4, 1, 1, 1, 1, 1, 1, a4.copy(), won.copy()),
        "max_pool_2x2_backward": (a4, won, False, zero, np.zeros((1, 1, 2, 2), dtype)),
        "max_pool_backward": (a4, won, 1, 1, 1, 1, 1, 1, 0, 0, True, False, a4.copy()),
    }
    m = np.zeros((1, 1), dtype)
    calls["lstm_backward_step"] = (m, m, m, True, np.zeros((4, 1), dtype), m, m,
                                   np.zeros((4, 1), dtype), np.zeros((1, 4), dtype), m.copy(),
                                   dtype(1))
    calls["lstm_gates_cell"] = (np.zeros(4, dtype), np.zeros(4, dtype), np.zeros(4, dtype), one,
                                one.copy())
    calls["lstm_hidden"] = (m, m, m.copy())
    index = np.zeros(1, np.int64)
    calls["embedding_backward"] = (index.reshape(1, 1), np.zeros((1, 1, 1), dtype), m.copy())
    calls["minus_row_max"] = (m, m.copy())
    calls["softmax_minus_one_hot"] = (m, m, one, False, index, m.copy())
    for name in ("im2col", "im2col_unit_stride"):
        calls[name] = (a4, 1, 1, 1, 1, 1, 1, 0, 0, 1, np.zeros((1, 1, 1), dtype))
    for name in ("col2im", "col2im_unit_stride"):
        calls[name] = (np.zeros((1, 1, 1), dtype), 1, 1, 1, 1, 1, 1, 0, 0, 1, True, a4.copy())
    for name, kernel in table.items():
        if name in calls:
            kernel(*calls[name])


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
    kernel = get(name, first.size)
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
