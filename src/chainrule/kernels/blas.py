"""Matrix products on MKL, the BLAS of PyTorch's x86 wheels, where the ``mkl`` extra is installed.

NumPy's wheels multiply with OpenBLAS. At the shapes of the bench's training steps OpenBLAS takes
1.1-1.7x as long as MKL (``python -m bench --profile`` replays them), so a product handed to MKL
costs what it costs PyTorch. ``matmul(a, b, out=None)`` means ``a @ b`` for 2-d and 3-d arrays:
float32/float64 host arrays of one dtype go to MKL's ``cblas_?gemm`` (``?gemm_batch_strided``
for a batch, a 2-d operand broadcast with stride 0), a transposed view through the transpose
flag rather than a copy. Everything else takes the array's own ``matmul``: other dtypes, device
arrays, layouts that are not rows or columns of a strided matrix, empty or tiny products (where
the ctypes call costs more than it saves), MKL not installed, ``CHAINRULE_BLAS=numpy``, or the
reference switch (whose ops are NumPy's, literally).

MKL's results agree with OpenBLAS's to rounding, not bit for bit; a product is repeatable, for
any alignment, with the same thread count.

One thread pool at a time: OpenBLAS's threads spin for a while after each threaded product and
would take the cores from MKL's (W4's products ran 6x slower when its middle-sized products went
to a two-threaded OpenBLAS). So MKL takes every product that OpenBLAS would thread, and leaves
it only those it runs on one thread (``MIN_MULTIPLY_ADDS``).
"""
import numpy as np

from ..backend import array_module
from ..backends import mkl
from ..backends.reference import is_reference_enabled

# Smaller products stay with OpenBLAS: the ctypes call (~7 us) outweighs what MKL saves there,
# and OpenBLAS runs them on one thread (below 4 x 65536 multiply-adds, its default
# GEMM_MULTITHREAD_THRESHOLD), so its thread pool never spins against MKL's.
MIN_MULTIPLY_ADDS = 1 << 18

_ndarray, _np_matmul = np.ndarray, np.matmul
_INT_MAX = 2 ** 31 - 1     # the LP64 interface's MKL_INT
_ROW_MAJOR, _NO_TRANS, _TRANS = 101, 111, 112
_PACKED, _A_MATRIX = 151, 161     # CBLAS_STORAGE's CblasPacked, CBLAS_IDENTIFIER's CblasAMatrix
_gemm = None         # dtype -> (cblas_?gemm, ?gemm_batch_strided, scalar type), from backends.mkl


def available():
    """True when products go to MKL (the ``mkl`` wheel is installed and not switched off)."""
    return mkl.is_available()


def warm_up():
    """Load MKL and start its threads now (a one-time cost of a process) rather than in the first
    product big enough for it; False when unavailable."""
    if not available():
        return False
    for dtype in mkl.functions():
        a = np.ones((64, 64), dtype)
        matmul(np.ones((MIN_MULTIPLY_ADDS // 4096 + 1, 64), dtype), a)
    return True


def _matrix(a):
    """(transpose flag, leading dimension, batch stride) of ``a``'s last two axes as BLAS reads
    them, in elements; None when they are neither rows nor columns of a strided matrix."""
    size = a.itemsize
    rows, cols = a.shape[-2:]
    rs, cs = a.strides[-2:]
    if (cs == size or cols == 1) and rs % size == 0 and rs // size >= max(1, cols):
        flag, ld = _NO_TRANS, rs // size
    elif (rs == size or rows == 1) and cs % size == 0 and cs // size >= max(1, rows):
        flag, ld = _TRANS, cs // size
    else:
        return None
    if a.ndim == 2:
        return flag, ld, 0
    if a.shape[0] == 1:
        return flag, ld, 0
    if a.strides[0] % size or a.strides[0] < 0:
        return None
    return flag, ld, a.strides[0] // size


def matmul(a, b, out=None):
    """``a @ b`` (NumPy's semantics for 2-d and 3-d operands), on MKL where it can be."""
    # the cheap tests first: most calls of a small model end here, at NumPy's matmul (the
    # multiply-adds of a batch against a matrix are a.size * n, or b.size * m)
    if (a.ndim < 2 or b.ndim < 2
            or a.size * b.shape[-1] < MIN_MULTIPLY_ADDS > b.size * a.shape[-2]):
        if type(a) is _ndarray:
            return _np_matmul(a, b) if out is None else _np_matmul(a, b, out=out)
        return _fallback(a, b, out)
    global _gemm
    if _gemm is None:
        _gemm = mkl.functions()
    if (not _gemm or type(a) is not _ndarray or type(b) is not _ndarray
            or a.ndim > 3 or b.ndim > 3 or a.dtype != b.dtype or a.dtype not in _gemm
            or is_reference_enabled()):
        return _fallback(a, b, out)
    m, k = a.shape[-2:]
    k2, n = b.shape[-2:]
    batch_a = a.shape[0] if a.ndim == 3 else 1
    batch_b = b.shape[0] if b.ndim == 3 else 1
    batch = max(batch_a, batch_b)
    if (k != k2 or batch_a != batch and batch_a != 1 or batch_b != batch and batch_b != 1
            or m * n * k * batch < MIN_MULTIPLY_ADDS or not m * n * k):
        return _fallback(a, b, out)
    layout_a, layout_b = _matrix(a), _matrix(b)
    if layout_a is None or layout_b is None:
        return _fallback(a, b, out)
    shape = (batch, m, n) if a.ndim == 3 or b.ndim == 3 else (m, n)
    if out is None:
        out = np.empty(shape, a.dtype)
    elif (type(out) is not np.ndarray or out.shape != shape or out.dtype != a.dtype
          or not out.flags.c_contiguous or np.may_share_memory(out, a)
          or np.may_share_memory(out, b)):
        return _fallback(a, b, out)
    gemm, gemm_batch, scalar = _gemm[a.dtype]
    (ta, lda, sa), (tb, ldb, sb) = layout_a, layout_b
    if max(lda, ldb, sa, sb, m * n, k) > _INT_MAX:
        return _fallback(a, b, out)    # beyond MKL's 32-bit integers (ctypes would wrap them)
    if len(shape) == 2:
        gemm(_ROW_MAJOR, ta, tb, m, n, k, scalar(1.0), a.ctypes.data, lda, b.ctypes.data, ldb,
             scalar(0.0), out.ctypes.data, n)
    else:
        gemm_batch(_ROW_MAJOR, ta, tb, m, n, k, scalar(1.0), a.ctypes.data, lda, sa,
                   b.ctypes.data, ldb, sb, scalar(0.0), out.ctypes.data, n, m * n, batch)
    return out


class PackedLeft:
    """A matrix ``a`` (m, k) that MKL has packed once into its internal blocked layout, for many
    products ``a @ b`` against (k, n) operands: an RNN's W_hh, multiplied with every step's
    hidden state. Packing W_hh (1024 x 256) costs 17 us once; each of the 64 products of a step
    then takes 53 us instead of 60."""

    def __init__(self, a, n):
        self.m, self.k = a.shape
        self.n, self.dtype = n, a.dtype
        size, pack, self._compute = mkl.packing()[a.dtype]
        _, _, self._scalar = _gemm[a.dtype]
        ta, lda, _ = _matrix(a)
        self._buffer = np.empty(size(_A_MATRIX, self.m, n, self.k) // a.itemsize + 1, a.dtype)
        pack(_ROW_MAJOR, _A_MATRIX, ta, self.m, n, self.k, self._scalar(1.0), a.ctypes.data,
             lda, self._buffer.ctypes.data)

    def matmul(self, b, out, accumulate=False):
        """``out[...] = a @ b`` (``out += a @ b`` with ``accumulate``) for b (k, n) as BLAS reads
        it and out C-contiguous (m, n): ``bound`` for ``b``'s layout, called on the arrays."""
        layout = _matrix(b)
        if layout is None or layout[1] > _INT_MAX:
            b = np.ascontiguousarray(b)
            layout = _matrix(b)
        tb, ldb, _ = layout
        self.bound(ldb, tb == _TRANS, accumulate)(b.ctypes.data, out.ctypes.data)
        return out

    def bound(self, b_rows, b_transposed, accumulate=False):
        """``run(b_address, out_address)``: the product with a (k, n) operand and a C-contiguous
        (m, n) ``out`` given by their addresses, the operand's layout fixed here (rows of
        ``b_rows`` elements, or their transpose). An RNN's loop computes each step's addresses
        and calls it: about 4 us a step less than ``matmul``'s layout checks and arguments."""
        if b_rows > _INT_MAX:
            raise ValueError(f"PackedLeft.bound: leading dimension {b_rows} exceeds 2^31 - 1")
        compute, m, n, k = self._compute, self.m, self.n, self.k
        packed, trans = self._buffer.ctypes.data, _TRANS if b_transposed else _NO_TRANS
        beta = self._scalar(1.0 if accumulate else 0.0)

        def run(b_address, out_address):
            compute(_ROW_MAJOR, _PACKED, trans, m, n, k, packed, k, b_address, b_rows, beta,
                    out_address, n)
        return run


def packed_left(a, n):
    """``a`` (m, k) packed for products against (k, n) operands of its dtype (``PackedLeft``), or
    None where ``matmul`` would not hand such a product to MKL: then call ``matmul``."""
    global _gemm
    if _gemm is None:
        _gemm = mkl.functions()
    layout = None if type(a) is not np.ndarray or a.ndim != 2 else _matrix(a)
    if (not _gemm or layout is None or a.dtype not in _gemm or a.size * n < MIN_MULTIPLY_ADDS
            or is_reference_enabled() or max(layout[1], a.shape[0] * n) > _INT_MAX):
        return None
    return PackedLeft(a, n)


def _fallback(a, b, out):
    module = np if type(a) is np.ndarray else array_module(a)
    return module.matmul(a, b) if out is None else module.matmul(a, b, out=out)
