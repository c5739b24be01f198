"""Nearest upsampling: by integer factors as one broadcast copy, otherwise as a selection
matrix per axis applied with ``pooling.Separable``."""
from ..backend import xp
from .base import Op


class UpsampleNearestIntReference(Op):
    """Nearest upsampling by integer factors read off its formula: y[.., h, w] =
    x[.., h // sh, w // sw] as one gather with the source index of every output position;
    dL/dx = dL/dy scatter-added back to those sources. Same arguments as ``UpsampleNearestInt``.
    """

    @staticmethod
    def forward(ctx, x, factors):
        sources = xp.ix_(*[xp.arange(n * f) // f for n, f in zip(x.shape[2:], factors)])
        ctx.sources, ctx.x_shape = sources, x.shape
        # NumPy lays out a gather after slices in its own order; the fast op's output is
        # C-contiguous, and ``is_contiguous`` should not depend on the path.
        return xp.ascontiguousarray(x[(slice(None), slice(None)) + sources])

    @staticmethod
    def backward(ctx, g):
        gx = xp.zeros(ctx.x_shape, dtype=g.dtype)
        xp.add.at(gx, (slice(None), slice(None)) + ctx.sources, g)
        return gx, None


class UpsampleNearestInt(Op):
    """Nearest upsampling by integer factors: y[.., h, w] = x[.., h // sh, w // sw] as a
    broadcast view copied once;  dL/dx = dL/dy summed over each sh x sw block. Unlike the twin's
    gather and scatter-add, both directions are one reshape and one contiguous pass."""

    reference = UpsampleNearestIntReference

    @staticmethod
    def forward(ctx, x, factors):
        ctx.factors = factors
        N, C = x.shape[:2]
        if len(factors) == 1:
            (f,) = factors
            L = x.shape[2]
            return xp.broadcast_to(x[:, :, :, None], (N, C, L, f)).reshape(N, C, L * f)
        (fh, fw) = factors
        H, W = x.shape[2:]
        return xp.broadcast_to(x[:, :, :, None, :, None],
                               (N, C, H, fh, W, fw)).reshape(N, C, H * fh, W * fw)

    @staticmethod
    def backward(ctx, g):
        N, C = g.shape[:2]
        if len(ctx.factors) == 1:
            (f,) = ctx.factors
            return g.reshape(N, C, -1, f).sum(axis=3), None
        fh, fw = ctx.factors
        H, W = g.shape[2] // fh, g.shape[3] // fw
        return g.reshape(N, C, H, fh, W, fw).sum(axis=(3, 5)), None


def nearest_matrix(n, m, scale, dtype):
    """(m, n) selection matrix of PyTorch's 'nearest': output i reads floor(i * scale)."""
    src = xp.minimum(xp.floor(xp.arange(m) * scale).astype(xp.int64), n - 1)
    sel = xp.zeros((m, n), dtype=dtype)
    sel[xp.arange(m), src] = 1
    return sel
