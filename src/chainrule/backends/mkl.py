"""``cr.backends.mkl`` (``torch.backends.mkl``): whether matrix products run on MKL.

chainrule's products go to MKL, the BLAS of PyTorch's x86 wheels, where the ``mkl`` extra is
installed (``pip install "chainrule[mkl]"``; ``chainrule.kernels.blas`` routes them), and stay
with NumPy's OpenBLAS otherwise, or with ``CHAINRULE_BLAS=numpy`` set before the first product.
This module finds the wheel's runtime library and declares the two BLAS calls chainrule makes.
"""
import ctypes
import glob
import os
import sys
from importlib import metadata

import numpy as np

_lib = None          # the loaded libmkl_rt, False when unavailable, None before the first try
_functions = {}      # dtype -> (cblas_?gemm, cblas_?gemm_batch_strided, ctypes scalar type)
_packing = {}        # dtype -> (cblas_?gemm_pack_get_size, cblas_?gemm_pack, cblas_?gemm_compute)
_threads = None      # cr.set_num_threads's count, applied when MKL loads
_forked = False      # this process is a fork: MKL runs without OpenMP threads
_SEQUENTIAL = 1      # MKL_THREADING_SEQUENTIAL


def _candidates():
    """Where the ``mkl`` wheel puts its runtime library: the environment's lib/ (Library/bin/ on
    Windows), found through the installed distribution's file list."""
    try:
        files = metadata.distribution("mkl").files or ()
    except metadata.PackageNotFoundError:
        files = ()
    for f in files:
        if os.path.basename(str(f)).startswith(("libmkl_rt.so", "libmkl_rt.", "mkl_rt.")):
            yield os.path.normpath(str(f.locate()))
    for folder in (os.path.join(sys.prefix, "lib"), os.path.join(sys.prefix, "Library", "bin")):
        yield from sorted(glob.glob(os.path.join(folder, "libmkl_rt.so*")))


def _declare(lib):
    i, p = ctypes.c_int, ctypes.c_void_p
    functions = {}
    for dtype, prefix, scalar in ((np.float32, "s", ctypes.c_float),
                                  (np.float64, "d", ctypes.c_double)):
        gemm = getattr(lib, f"cblas_{prefix}gemm")
        gemm.argtypes = [i, i, i, i, i, i, scalar, p, i, p, i, scalar, p, i]
        gemm.restype = None
        batch = getattr(lib, f"cblas_{prefix}gemm_batch_strided")
        batch.argtypes = [i, i, i, i, i, i, scalar, p, i, i, p, i, i, scalar, p, i, i, i]
        batch.restype = None
        functions[np.dtype(dtype)] = (gemm, batch, scalar)
        size = getattr(lib, f"cblas_{prefix}gemm_pack_get_size")
        size.argtypes, size.restype = [i, i, i, i], ctypes.c_size_t
        pack = getattr(lib, f"cblas_{prefix}gemm_pack")
        pack.argtypes, pack.restype = [i, i, i, i, i, i, scalar, p, i, p], None
        compute = getattr(lib, f"cblas_{prefix}gemm_compute")
        compute.argtypes, compute.restype = [i, i, i, i, i, i, p, i, p, i, scalar, p, i], None
        _packing[np.dtype(dtype)] = (size, pack, compute)
    return functions


def _load():
    global _lib
    _lib = False
    if os.environ.get("CHAINRULE_BLAS", "mkl").strip().lower() in ("numpy", "0", "off", "no"):
        return
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path)
            if _forked:
                # MKL's OpenMP threads hung in a fork of a process whose GNU OpenMP threads
                # (the kernels' parallel builds) had started: a forked child loads MKL
                # sequential, which must be chosen before any other call
                lib.MKL_Set_Threading_Layer(_SEQUENTIAL)
            lib.MKL_Set_Interface_Layer(0)          # LP64: 32-bit integers, as declared
            # MKL's own allocator keeps every buffer it packed a product in (W3's peak grew
            # 46 -> 50 MB); with malloc/free the peak is 48 MB and the products are no slower
            lib.MKL_Disable_Fast_MM()
            _functions.update(_declare(lib))
        except (OSError, AttributeError):
            continue
        _lib = lib
        if _threads and not _forked:
            lib.MKL_Set_Num_Threads(_threads)
        return


def _one_thread_in_child():
    global _forked
    _forked = True
    if _lib:
        _lib.MKL_Set_Num_Threads(1)


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_one_thread_in_child)


def functions():
    """{dtype: (cblas_?gemm, cblas_?gemm_batch_strided, scalar type)}, empty without MKL."""
    if _lib is None:
        _load()
    return _functions


def packing():
    """{dtype: (cblas_?gemm_pack_get_size, cblas_?gemm_pack, cblas_?gemm_compute)}: MKL's
    packed products, for one left operand against many right ones; empty without MKL."""
    functions()
    return _packing


def is_available():
    """True when chainrule's matrix products run on MKL."""
    return bool(functions())


def set_num_threads(n):
    """Have MKL's products use ``n`` threads (``cr.set_num_threads`` calls this); recorded for
    later if MKL has not loaded yet, so that setting it loads nothing. A forked process keeps
    one."""
    global _threads
    _threads = int(n)
    if _lib and not _forked:
        _lib.MKL_Set_Num_Threads(_threads)


def get_num_threads():
    """The threads MKL's products use, or None where MKL has not loaded (nor is loaded here)."""
    return _lib.MKL_Get_Max_Threads() if _lib else None


def library_path():
    """The MKL runtime library in use, or None."""
    return _lib._name if is_available() else None
