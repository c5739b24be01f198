"""The array module switch, and how arrays are allocated.

Every op computes with ``xp``; today that is NumPy. A CuPy backend would make ``array_module``
return ``cupy`` for device arrays, as Chainer does; nothing else in the ops needs to change,
because none of them names NumPy directly for maths.

Importing chainrule also asks glibc to keep large arrays on its heap (``keep_large_arrays_on_heap``),
the job PyTorch's caching allocator does for it; ``CHAINRULE_MALLOPT=0`` opts out.
"""
import ctypes
import os
import sys

import numpy

xp = numpy


def array_module(array):
    """The array library that owns ``array`` (NumPy for every array chainrule makes today)."""
    return numpy


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
