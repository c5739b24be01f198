"""Bit patterns of float arrays, for the tests that compare a kernel with the NumPy code it
replaces bit for bit (signed zeros and NaN payloads included, which ``==`` would not see)."""
import numpy as np


def bits(a):
    """``a``'s float32 or float64 elements as unsigned integers of the same width."""
    a = np.ascontiguousarray(a)
    return a.view(np.uint32 if a.dtype == np.float32 else np.uint64)
