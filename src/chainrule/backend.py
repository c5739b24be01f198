"""The array module switch, and how arrays are allocated.

Every op computes with ``xp`` (NumPy). A device backend (CuPy for ``cuda``, cupy_backend.py)
registers its array type here; ``array_module(a)`` then names the library that owns ``a``, as
Chainer's does. Ops keep calling ``xp.maximum(a, 0)``, ``xp.matmul(a, b)`` ...: NumPy hands
those to the array's own library through NEP 18/13 (``__array_function__``/``__array_ufunc__``).
What does not dispatch is making a new array, so ops make theirs with
``array_module(a).zeros(...)`` (or ``like=a``), and move data only through ``to_device`` and
``to_host``.

Importing chainrule also asks glibc to keep large arrays on its heap (``keep_large_arrays_on_heap``),
the job PyTorch's caching allocator does for it; ``CHAINRULE_MALLOPT=0`` opts out.
"""
import ctypes
import os
import sys

import numpy

xp = numpy


# array type -> (its array module, its device type), filled by register_array_module
_DEVICE_ARRAYS = {}
# for hot paths: ``type(a) is xp.ndarray or type(a) in DEVICE_ARRAYS``
DEVICE_ARRAYS = _DEVICE_ARRAYS


def register_array_module(array_type, module, device_type):
    """Let tensors hold ``array_type`` arrays, computed with ``module``, on ``device_type``.

    ``module`` must offer NumPy's creation functions and ``random.default_rng``, plus
    ``asarray(host_array)`` (a copy onto the device), ``asnumpy(array)`` (a copy to the host)
    and ``cuda.Device(index)`` (a context selecting the device), as CuPy does; each array a
    ``.device.id``. Returns the previous registration of ``array_type``, or None.
    """
    previous = _DEVICE_ARRAYS.get(array_type)
    _DEVICE_ARRAYS[array_type] = (module, device_type)
    return previous


def unregister_array_module(array_type):
    _DEVICE_ARRAYS.pop(array_type, None)


def array_module(array):
    """The array library that owns ``array``: NumPy, or a device backend's (CuPy)."""
    if type(array) is numpy.ndarray:
        return numpy
    entry = _DEVICE_ARRAYS.get(type(array))
    return numpy if entry is None else entry[0]


def contiguous(array):
    """``array`` in C order, copied only when it is not (``ascontiguousarray`` of its library)."""
    return array_module(array).ascontiguousarray(array)


def placed_like(array, ref):
    """``array`` on the device of ``ref`` (a constant an op builds from shapes, such as a
    pooling matrix, meeting the op's input); itself when it is there already."""
    if type(array) is type(ref) or array is None:
        return array
    return to_device(array, *device_of(ref))


def is_device_array(array):
    """Whether ``array`` lives on a device other than the CPU."""
    return type(array) in _DEVICE_ARRAYS


def device_of(array):
    """``(type, index)`` of the device holding ``array``: ``("cpu", None)`` for NumPy's."""
    entry = _DEVICE_ARRAYS.get(type(array))
    if entry is None:
        return "cpu", None
    return entry[1], array.device.id


def module_for(device_type):
    """The array module of ``device_type`` (NumPy for the CPU); KeyError when none registered."""
    if device_type == "cpu":
        return numpy
    for module, kind in _DEVICE_ARRAYS.values():
        if kind == device_type:
            return module
    raise KeyError(device_type)


def to_device(array, device_type, index=None):
    """``array`` (NumPy's or a device's) on ``device_type`` (``"cpu"`` for the host): itself
    when already there, else a copy."""
    kind, at = device_of(array)
    if kind == device_type and (index is None or at == index):
        return array
    host = to_host(array)
    if device_type == "cpu":
        return host
    module = module_for(device_type)
    with module.cuda.Device(index or 0):
        return module.asarray(host)


def is_array(x):
    """Whether ``x`` is an array: NumPy's or a device backend's."""
    return type(x) is numpy.ndarray or type(x) in _DEVICE_ARRAYS or isinstance(x, numpy.ndarray)


def as_array(x, dtype=None):
    """``x`` if it is already an array (NumPy's or a device's; cast to ``dtype`` if given), else
    ``numpy.asarray(x, dtype)``: the host conversion that leaves device arrays where they are."""
    if type(x) is numpy.ndarray or type(x) in _DEVICE_ARRAYS:
        return x if dtype is None or x.dtype == dtype else x.astype(dtype)
    return numpy.asarray(x, dtype=dtype)


def owned_copy(array, dtype=None):
    """A fresh array with ``array``'s values (a NumPy scalar becomes a 0-d array), on its device."""
    if type(array) in _DEVICE_ARRAYS:
        return array.astype(dtype or array.dtype, copy=True)
    return numpy.array(array, dtype=dtype)


def to_host(array):
    """``array`` as a NumPy array (a copy from the device; itself when already on the host)."""
    entry = _DEVICE_ARRAYS.get(type(array))
    if entry is None:
        return array if type(array) is numpy.ndarray else numpy.asarray(array)
    return entry[0].asnumpy(array)


def keep_large_arrays_on_heap(limit=1 << 28):
    """Ask glibc to serve arrays below ``limit`` bytes from its heap and keep freed memory.

    By default glibc maps every block above ~128 KiB freshly from the kernel and returns it on
    free, so each training step page-faults through its columns, gradients and activations
    again (measured: a LeNet training step went from 16 to 9 ms with this). PyTorch avoids the
    same cost with its caching allocator. The setting is process-wide. Linux/glibc only; set
    CHAINRULE_MALLOPT=0 to leave the allocator alone.
    """
    if not sys.platform.startswith("linux") or os.environ.get("CHAINRULE_MALLOPT") == "0":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
        M_TRIM_THRESHOLD, M_MMAP_THRESHOLD = -1, -3
        return bool(libc.mallopt(M_MMAP_THRESHOLD, int(limit))
                    and libc.mallopt(M_TRIM_THRESHOLD, int(2 * limit)))
    except (OSError, AttributeError):
        return False


keep_large_arrays_on_heap()
