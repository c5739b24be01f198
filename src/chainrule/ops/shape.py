"""Operations that move elements without changing them: their backward moves gradients back."""
from ..backend import array_module, xp
from .base import Op


class Reshape(Op):
    """z = a with a new shape;  dL/da = dL/dz reshaped back."""

    @staticmethod
    def forward(ctx, a, shape):
        ctx.shape = a.shape
        return a.reshape(shape)

    @staticmethod
    def backward(ctx, g):
        return g.reshape(ctx.shape), None


class View(Reshape):
    """``view``: a reshape that shares memory."""


class Flatten(Reshape):
    """``flatten``: dims start..end merged into one."""


class Unflatten(Reshape):
    """``unflatten``: one dim split into several."""


class Squeeze(Reshape):
    """``squeeze``: size-1 dims removed."""


class Unsqueeze(Reshape):
    """``unsqueeze``: a size-1 dim inserted."""


class Permute(Op):
    """z = a with its axes reordered;  dL/da = dL/dz with the inverse order."""

    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims = dims
        return a.transpose(dims)

    @staticmethod
    def backward(ctx, g):
        return g.transpose(tuple(sorted(range(len(ctx.dims)), key=ctx.dims.__getitem__))), None


class Transpose(Op):
    """z = a with two axes swapped;  dL/da = dL/dz with the same two swapped."""

    @staticmethod
    def forward(ctx, a, d0, d1):
        ctx.d0, ctx.d1 = d0, d1
        return xp.swapaxes(a, d0, d1)

    @staticmethod
    def backward(ctx, g):
        return xp.swapaxes(g, ctx.d0, ctx.d1), None, None


class Expand(Op):
    """z = a broadcast to a larger shape (a view);  dL/da = dL/dz summed over the copies.

    The summing is the engine's ``undo_broadcast``, so backward only passes the gradient on.
    """

    @staticmethod
    def forward(ctx, a, shape):
        return xp.broadcast_to(a, shape)

    @staticmethod
    def backward(ctx, g):
        return g, None


class Repeat(Op):
    """z = a tiled ``repeats`` times along each dim;  dL/da = sum of dL/dz over the tiles."""

    @staticmethod
    def forward(ctx, a, repeats):
        lead = len(repeats) - a.ndim
        ctx.shape = (1,) * lead + a.shape
        ctx.orig, ctx.repeats = a.shape, repeats
        return xp.tile(a.reshape(ctx.shape), repeats)

    @staticmethod
    def backward(ctx, g):
        split = []
        for r, n in zip(ctx.repeats, ctx.shape):
            split += [r, n]
        g = g.reshape(split).sum(axis=tuple(range(0, len(split), 2)))
        return g.reshape(ctx.orig), None


class Flip(Op):
    """z = a reversed along ``dims``;  dL/da = dL/dz reversed the same way."""

    @staticmethod
    def forward(ctx, a, dims):
        ctx.dims = dims
        return xp.flip(a, dims)

    @staticmethod
    def backward(ctx, g):
        return xp.flip(g, ctx.dims), None


class Roll(Op):
    """z = a shifted cyclically;  dL/da = dL/dz shifted back."""

    @staticmethod
    def forward(ctx, a, shifts, dims):
        ctx.shifts, ctx.dims = shifts, dims
        return xp.roll(a, shifts, dims)

    @staticmethod
    def backward(ctx, g):
        shifts = ctx.shifts
        back = tuple(-s for s in shifts) if isinstance(shifts, tuple) else -shifts
        return xp.roll(g, back, ctx.dims), None, None


class Cat(Op):
    """z = [a_1, a_2, ...] joined along ``dim``;  dL/da_k = the slice of dL/dz that a_k became."""

    @staticmethod
    def forward(ctx, dim, *arrays):
        ctx.dim = dim
        ctx.bounds = xp.cumsum([a.shape[dim] for a in arrays])[:-1].tolist()
        return xp.concatenate(arrays, axis=dim)

    @staticmethod
    def backward(ctx, g):
        return (None,) + tuple(xp.split(g, ctx.bounds, axis=ctx.dim))


class Stack(Op):
    """z = [a_1, a_2, ...] stacked along a new ``dim``;  dL/da_k = dL/dz[..., k, ...]."""

    @staticmethod
    def forward(ctx, dim, *arrays):
        ctx.dim = dim
        return xp.stack(arrays, axis=dim)

    @staticmethod
    def backward(ctx, g):
        d = ctx.dim
        return (None,) + tuple(xp.take(g, i, axis=d) for i in range(g.shape[d]))


class Split(Op):
    """(z_1, z_2, ...) = a cut along ``dim`` at ``bounds``;  dL/da = the dL/dz_k joined back."""

    @staticmethod
    def forward(ctx, a, bounds, dim):
        ctx.dim = dim
        return tuple(xp.split(a, bounds, axis=dim))

    @staticmethod
    def backward(ctx, *grads):
        return xp.concatenate(grads, axis=ctx.dim), None, None


class Unbind(Op):
    """(z_1, z_2, ...) = the slices of a along ``dim``;  dL/da = the dL/dz_k stacked back."""

    @staticmethod
    def forward(ctx, a, dim):
        ctx.dim = dim
        return tuple(xp.take(a, i, axis=dim) for i in range(a.shape[dim]))

    @staticmethod
    def backward(ctx, *grads):
        return xp.stack(grads, axis=ctx.dim), None


class Pad(Op):
    """z = a padded (constant, reflect, replicate or circular);  dL/da = the gradient of the
    positions that came from a (summed where a position was copied more than once)."""

    @staticmethod
    def forward(ctx, a, pad_width, mode, value):
        ctx.shape, ctx.pad_width, ctx.mode = a.shape, pad_width, mode
        if mode == "constant":
            lows = [max(-lo, 0) for lo, hi in pad_width]
            highs = [n - max(-hi, 0) for n, (lo, hi) in zip(a.shape, pad_width)]
            cropped = a[tuple(slice(lo, hi) for lo, hi in zip(lows, highs))]
            ctx.crop = tuple(slice(lo, hi) for lo, hi in zip(lows, highs))
            pos = [(max(lo, 0), max(hi, 0)) for lo, hi in pad_width]
            return xp.pad(cropped, pos, mode="constant", constant_values=value)
        ctx.index = _pad_index(a.shape, pad_width, mode, a)
        return a[ctx.index]

    @staticmethod
    def backward(ctx, g):
        out = array_module(g).zeros(ctx.shape, dtype=g.dtype)
        if ctx.mode == "constant":
            inner = tuple(slice(max(lo, 0), g.shape[i] - max(hi, 0))
                          for i, (lo, hi) in enumerate(ctx.pad_width))
            out[ctx.crop] = g[inner]
        else:
            xp.add.at(out, ctx.index, g)
        return out, None, None, None


def _pad_index(shape, pad_width, mode, like=None):
    """Open-mesh index arrays that gather a padded array from the original."""
    index = []
    for n, (lo, hi) in zip(shape, pad_width):
        pos = array_module(like).arange(-lo, n + hi)
        if mode == "reflect":
            if lo >= n or hi >= n:
                raise ValueError(f"pad: reflect padding ({lo}, {hi}) must be smaller than the "
                                 f"dimension it pads ({n})")
            period = 2 * (n - 1) if n > 1 else 1
            pos = xp.abs(pos) % period
            pos = xp.where(pos >= n, period - pos, pos)
        elif mode == "replicate":
            pos = xp.clip(pos, 0, n - 1)
        elif mode == "circular":
            pos = pos % n
        else:
            raise ValueError(f"pad: mode must be 'constant', 'reflect', 'replicate' or "
                             f"'circular', got {mode!r}")
        index.append(pos)
    return xp.ix_(*index)


class Triangle(Op):
    """z = a with the elements above (``upper=False``: tril) or below (``upper=True``: triu) the
    ``diagonal``-th diagonal of its last two dimensions set to 0;  dz/da = the same mask.

    Diagonal 0 is the main one, positive ones lie above it, negative ones below.
    """

    @staticmethod
    def forward(ctx, a, diagonal, upper):
        rows, cols = a.shape[-2:]
        i = array_module(a).arange(rows)[:, None]
        j = array_module(a).arange(cols)[None, :]
        keep = (j - i >= diagonal) if upper else (j - i <= diagonal)
        ctx.keep = keep
        return xp.where(keep, a, array_module(a).zeros((), a.dtype))

    @staticmethod
    def backward(ctx, g):
        return xp.where(ctx.keep, g, array_module(g).zeros((), g.dtype)), None, None
