"""Dropout as one op: the mask drawn once, kept for backward."""
from ..backend import array_module, xp
from .base import Op


class Dropout(Op):
    """Inverted dropout: y = x m / (1 - p) with m ~ Bernoulli(1 - p) (shape ``mask_shape``,
    broadcast over x: one mask per channel for Dropout2d);  dL/dx = g m / (1 - p)."""

    @staticmethod
    def forward(ctx, x, p, mask_shape, generator):
        if p >= 1:
            mask = array_module(x).zeros(mask_shape, dtype=x.dtype)
        else:
            draw = generator.random(mask_shape, dtype=x.dtype if x.dtype in
                                    (xp.float32, xp.float64) else xp.float64)
            mask = (draw >= p).astype(x.dtype)
            mask *= 1.0 / (1.0 - p)
        ctx.mask = mask
        return x * mask

    @staticmethod
    def backward(ctx, g):
        return g * ctx.mask, None, None, None
