"""Indexing, gathering and scattering."""
from ..backend import array_module, is_array, placed_like, xp
from .base import Op


def has_advanced(index):
    """True when ``index`` (a normalised tuple) holds an integer or boolean array."""
    return any(is_array(i) for i in index)


class GetItem(Op):
    """z = a[index];  dL/da = zeros with dL/dz added at the indexed places (a repeated index
    receives the sum of its gradients)."""

    @staticmethod
    def forward(ctx, a, index):
        if type(a) is not xp.ndarray:   # a list or NumPy index meets a device array there
            index = tuple(placed_like(i, a) if type(i) is xp.ndarray else i for i in index)
        ctx.shape, ctx.index = a.shape, index
        out = a[index]
        return out

    @staticmethod
    def backward(ctx, g):
        out = array_module(g).zeros(ctx.shape, dtype=g.dtype)
        if has_advanced(ctx.index):
            xp.add.at(out, ctx.index, g)
        else:
            out[ctx.index] = g
        return out, None


class MaskedFill(Op):
    """z = value where mask else a;  dL/da = dL/dz where not mask, else 0."""

    @staticmethod
    def forward(ctx, a, mask, value):
        ctx.mask = mask
        return xp.where(mask, array_module(a).asarray(value, dtype=a.dtype), a)

    @staticmethod
    def backward(ctx, g):
        return xp.where(ctx.mask, 0, g), None, None


def _within_index(index, dim):
    """The part of an array that an index of this shape addresses: PyTorch lets ``index`` be
    smaller than the array in the dimensions other than ``dim`` (NumPy would broadcast it)."""
    return tuple(slice(None) if d == dim else slice(0, n) for d, n in enumerate(index.shape))


def _scatter_index(index, dim):
    """Full index tuple that addresses, for every element of ``index``, its target in ``dim``."""
    grids = list(array_module(index).ogrid[tuple(slice(0, n) for n in index.shape)])
    grids[dim] = index
    return tuple(grids)


class Gather(Op):
    """z[i][j] = a[i][index[i][j]] (along ``dim``);  dL/da = dL/dz scattered back, summed."""

    @staticmethod
    def forward(ctx, a, dim, index):
        ctx.shape, ctx.dim, ctx.index = a.shape, dim, index
        return xp.take_along_axis(a[_within_index(index, dim)], index, axis=dim)

    @staticmethod
    def backward(ctx, g):
        out = array_module(g).zeros(ctx.shape, dtype=g.dtype)
        xp.add.at(out, _scatter_index(ctx.index, ctx.dim), g)
        return out, None, None


class ScatterAdd(Op):
    """z = a, then z[i][index[i][j]] += src[i][j];  dL/da = dL/dz, dL/dsrc = dL/dz gathered."""

    @staticmethod
    def forward(ctx, a, dim, index, src):
        out = a.copy()
        used = tuple(slice(0, n) for n in index.shape)
        xp.add.at(out, _scatter_index(index, dim), src[used])
        ctx.dim, ctx.index, ctx.src_shape, ctx.used = dim, index, src.shape, used
        return out

    @staticmethod
    def backward(ctx, g):
        gsrc = None
        if ctx.needs_input_grad[3]:
            gsrc = array_module(g).zeros(ctx.src_shape, dtype=g.dtype)
            gsrc[ctx.used] = xp.take_along_axis(g[_within_index(ctx.index, ctx.dim)], ctx.index,
                                                axis=ctx.dim)
        return g, None, None, gsrc


class IndexSelect(Op):
    """z = a taken at ``index`` along ``dim``;  dL/da = dL/dz added back at those places."""

    @staticmethod
    def forward(ctx, a, dim, index):
        ctx.shape, ctx.dim, ctx.index = a.shape, dim, index
        return xp.take(a, index, axis=dim)

    @staticmethod
    def backward(ctx, g):
        out = array_module(g).zeros(ctx.shape, dtype=g.dtype)
        moved = xp.moveaxis(out, ctx.dim, 0)
        xp.add.at(moved, ctx.index, xp.moveaxis(g, ctx.dim, 0))
        return out, None, None
