"""Diagonals: ``Diag`` builds a matrix from a vector's diagonal, or takes a matrix's diagonal."""
from ..backend import array_module
from .base import Op


def _diagonal_index(like, rows, cols, offset):
    """(row indices, column indices) of the ``offset``-th diagonal of a rows x cols matrix, made
    by the array module of ``like`` (NumPy, or CuPy for a CUDA tensor)."""
    start_row, start_col = max(-offset, 0), max(offset, 0)
    n = max(min(rows - start_row, cols - start_col), 0)
    steps = array_module(like).arange(n)
    return start_row + steps, start_col + steps


class Diag(Op):
    """``diag(v, k)``: a 1-D v of length n becomes the (n+|k|) x (n+|k|) matrix Z with
    Z[i, i+k] = v[i] and zeros elsewhere; dL/dv = the k-th diagonal of dL/dZ.
    ``diag(A, k)``: a 2-D A gives z[i] = A[i, i+k]; dL/dA is zero except dL/dA[i, i+k] = dL/dz[i].
    """

    @staticmethod
    def forward(ctx, a, offset):
        ctx.shape, ctx.offset = a.shape, offset
        if a.ndim == 1:
            n = a.shape[0] + abs(offset)
            out = array_module(a).zeros((n, n), dtype=a.dtype)
            rows, cols = _diagonal_index(a, n, n, offset)
            out[rows, cols] = a
            return out
        rows, cols = _diagonal_index(a, a.shape[0], a.shape[1], offset)
        return a[rows, cols].copy()

    @staticmethod
    def backward(ctx, g):
        if len(ctx.shape) == 1:
            rows, cols = _diagonal_index(g, g.shape[0], g.shape[1], ctx.offset)
            return g[rows, cols].copy(), None
        ga = array_module(g).zeros(ctx.shape, dtype=g.dtype)
        rows, cols = _diagonal_index(g, ctx.shape[0], ctx.shape[1], ctx.offset)
        ga[rows, cols] = g
        return ga, None
