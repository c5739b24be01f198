"""``cr.set_num_threads`` and its relatives (``torch.set_num_threads``): how many threads the
matrix products and kernels use.

chainrule's intra-op threads are its BLAS libraries' (MKL's where the ``mkl`` extra runs the
products, NumPy's OpenBLAS for the rest, resized through threadpoolctl where it is installed),
oneDNN's for LSTM layers (the ``onednn`` extra) and the parallel builds of its compiled kernels
(Numba's pool, ``kernels.parallel``). There is
no inter-op pool: ops run one after another on the calling thread, so the inter-op setting is
recorded and answered back, as PyTorch's, but changes nothing.
"""
import os

from .backends import mkl, onednn
from .kernels import parallel as kernel_threads

_interop_threads = None
_num_threads = None       # the last cr.set_num_threads


def _check(n, name):
    if isinstance(n, bool) or not isinstance(n, int) or n <= 0:
        raise RuntimeError(f"{name} expects a positive integer, got {n!r}")


def _openblas_pools():
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:
        return None
    return ThreadpoolController().select(internal_api="openblas")


def set_num_threads(num_threads):
    """Use ``num_threads`` threads for matrix products (MKL's and OpenBLAS's pools)."""
    global _num_threads
    _check(num_threads, "set_num_threads")
    _num_threads = num_threads
    mkl.set_num_threads(num_threads)        # loads nothing: applied when MKL loads
    onednn.set_num_threads(num_threads)     # the same for oneDNN (the LSTM's library)
    pools = _openblas_pools()
    if pools is not None:
        pools.limit(limits=num_threads)
    kernel_threads.set_num_threads(num_threads)


def get_num_threads():
    """The number of threads the matrix products use: the last ``set_num_threads``, else what
    the libraries start with."""
    if _num_threads:
        return _num_threads
    if mkl.get_num_threads():
        return mkl.get_num_threads()
    pools = _openblas_pools()
    if pools is not None and pools.info():
        return max(pool["num_threads"] for pool in pools.info())
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()


def set_num_interop_threads(num_threads):
    """Recorded as PyTorch records it (once, before any parallel work); chainrule runs its ops
    on the calling thread, so nothing else changes."""
    global _interop_threads
    _check(num_threads, "set_num_interop_threads")
    if _interop_threads is not None:
        raise RuntimeError("Error: cannot set number of interop threads after parallel work has "
                           "started or set_num_interop_threads called")
    _interop_threads = num_threads


def get_num_interop_threads():
    return _interop_threads or get_num_threads()
