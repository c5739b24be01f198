"""Embedding lookup as one op: rows gathered forward, scatter-added backward."""
from .. import kernels
from ..backend import array_module, xp
from .base import Op


class EmbeddingReference(Op):
    """y = W[idx] (row lookup);  dL/dW[k] = sum of g over the positions where idx == k (none for
    ``padding_idx``). Indices outside [0, rows) raise IndexError (NumPy would wrap negative
    ones); checked here, in the op, so that a ``cr.compile`` replay checks them too."""

    @staticmethod
    def forward(ctx, idx, weight, padding_idx):
        n = weight.shape[0]
        if type(idx) is xp.ndarray and idx.size and (idx.min() < 0 or idx.max() >= n):
            bad = idx[(idx < 0) | (idx >= n)][0]     # (on a GPU the lookup does not wait)
            raise IndexError(f"embedding: index {int(bad)} is out of range for {n} embeddings "
                             f"(expected 0 <= index < {n})")
        ctx.idx, ctx.wshape, ctx.padding_idx = idx, weight.shape, padding_idx
        return weight[idx]

    @staticmethod
    def backward(ctx, g):
        gw = array_module(g).zeros(ctx.wshape, dtype=g.dtype)
        xp.add.at(gw, ctx.idx, g)
        if ctx.padding_idx is not None:
            gw[ctx.padding_idx] = 0
        return None, gw, None


class Embedding(Op):
    """y = W[idx] (row lookup);  dL/dW[k] = sum of g over the positions where idx == k (none for
    ``padding_idx``).

    Fast path: the backward's scatter-add as one compiled pass over the positions in order
    (``kernels.embedding_backward``: ``add.at``'s sums, bit for bit); without Numba, a large one
    sums each row's gradients as segments of the positions sorted by index.
    """

    reference = EmbeddingReference

    forward = staticmethod(EmbeddingReference.forward)   # the same; only backward differs

    @staticmethod
    def backward(ctx, g):
        gw = array_module(g).zeros(ctx.wshape, dtype=g.dtype)
        if ctx.idx.size:
            _scatter_rows(gw, ctx.idx, g)
        if ctx.padding_idx is not None:
            gw[ctx.padding_idx] = 0
        return None, gw, None


def _scatter_rows(gw, idx, g):
    """gw[idx[p]] += g[p] for every position p of ``idx`` (g: idx's shape + (D,))."""
    width, host = gw.shape[1], kernels.on_host(gw, idx, g)
    kernel = host and g.dtype in kernels.DTYPES and kernels.get_lazily("embedding_backward",
                                                                       g.size)
    if kernel:
        # (A, B) positions: a batch of sequences as it is, whatever g's strides (no copy)
        inner = idx.shape[-1] if idx.ndim else 1
        kernel(idx.reshape(-1, inner), g.reshape(-1, inner, width), gw)
        return
    idx, g = idx.reshape(-1), g.reshape(-1, width)
    if host and g.size < kernels.LOAD_MIN:
        # what the kernel computes, so that a small gradient's bits do not depend on whether
        # something else loaded Numba (unbuffered add.at is slow, but this one is small)
        xp.add.at(gw, idx, g)
        return
    # ufunc.at is ~7x slower at W5's size (1.1 ms against 0.15); the stable sort keeps each
    # row's summation order
    order = xp.argsort(idx, kind="stable")
    rows = idx[order]
    starts = xp.flatnonzero(xp.concatenate(([True], rows[1:] != rows[:-1])))
    gw[rows[starts]] = xp.add.reduceat(g[order], starts, axis=0)
