"""Nearest upsampling: by integer factors as one broadcast copy, otherwise as a selection
matrix per axis applied with ``pooling.Separable``."""
from ..backend import xp
from .base import Op


class UpsampleNearestInt(Op):
    """Nearest upsampling by integer factors: y[.., h, w] = x[.., h // sh, w // sw] as a
    broadcast view copied once;  dL/dx = dL/dy summed over each sh x sw block."""

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
