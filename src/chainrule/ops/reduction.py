"""Reductions and the softmax family. ``dims`` arguments arrive normalised (sorted tuples)."""
from ..backend import array_module, xp
from .base import Op, as_float


def _expand(g, dims, keepdim):
    """Put back the reduced axes of ``g`` (as size 1) so it broadcasts against the input."""
    if keepdim or not dims:
        return g
    shape = list(g.shape)
    for d in dims:
        shape.insert(d, 1)
    return g.reshape(shape)


_VIEW_ABOVE = 4096  # below this many elements a filled copy is cheaper than NumPy's broadcast_to


def expand_to(g, shape):
    """``g`` (with size-1 axes where it was reduced) spread over ``shape``."""
    n = 1
    for s in shape:
        n *= s
    if n > _VIEW_ABOVE:
        return xp.broadcast_to(g, shape)
    out = array_module(g).empty(shape, g.dtype)
    out[...] = g
    return out


def _count(shape, dims):
    n = 1
    for d in dims:
        n *= shape[d]
    return n


class SumReference(Op):
    """z = sum_i a_i;  dz/da_i = 1 (the gradient is copied back to every summed element)."""

    @staticmethod
    def forward(ctx, a, dims, keepdim):
        ctx.shape, ctx.dims, ctx.keepdim = a.shape, dims, keepdim
        if a.dtype.kind == "b":
            a = a.astype(xp.int64)
        return a.sum(axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        return xp.broadcast_to(_expand(g, ctx.dims, ctx.keepdim), ctx.shape), None, None


class Sum(Op):
    """z = sum_i a_i;  dz/da_i = 1 (the gradient is copied back to every summed element).

    Fast path: ``expand_to`` copies small gradients out instead of making a broadcast view.
    """

    reference = SumReference

    forward = staticmethod(SumReference.forward)   # the same; only backward differs

    @staticmethod
    def backward(ctx, g):
        return expand_to(_expand(g, ctx.dims, ctx.keepdim), ctx.shape), None, None


class MeanReference(Op):
    """z = (1/N) sum_i a_i;  dz/da_i = 1/N."""

    @staticmethod
    def forward(ctx, a, dims, keepdim):
        if a.dtype.kind != "f":
            raise RuntimeError(f"mean: expected a floating-point tensor, got {a.dtype}; "
                               f"convert it with .float() first")
        ctx.shape, ctx.dims, ctx.keepdim = a.shape, dims, keepdim
        return a.mean(axis=dims, keepdims=keepdim)

    @staticmethod
    def backward(ctx, g):
        n = _count(ctx.shape, ctx.dims)
        g = _expand(g, ctx.dims, ctx.keepdim)
        return xp.broadcast_to(g / n if n else g, ctx.shape), None, None


class Mean(Op):
    """z = (1/N) sum_i a_i;  dz/da_i = 1/N.

    Fast path: ``expand_to`` copies small gradients out instead of making a broadcast view.
    """

    reference = MeanReference

    forward = staticmethod(MeanReference.forward)   # the same; only backward differs

    @staticmethod
    def backward(ctx, g):
        n = _count(ctx.shape, ctx.dims)
        g = _expand(g, ctx.dims, ctx.keepdim) / n if n else _expand(g, ctx.dims, ctx.keepdim)
        return expand_to(g, ctx.shape), None, None


class Var(Op):
    """z = sum_i (a_i - mean)^2 / (N - correction);  dz/da_i = 2 (a_i - mean) / (N - correction)."""

    @staticmethod
    def forward(ctx, a, dims, correction, keepdim):
        a = as_float(a)
        ctx.whole = dims is None        # x.var(): no dim given (x.var(dim=0) of a vector differs)
        dims = tuple(range(a.ndim)) if dims is None else dims
        mean = a.mean(axis=dims, keepdims=True)
        centred = a - mean
        n = _count(a.shape, dims)
        with xp.errstate(divide="ignore", invalid="ignore"):
            out = (centred * centred).sum(axis=dims, keepdims=keepdim) / max(n - correction, 0)
        ctx.centred, ctx.dims, ctx.keepdim, ctx.denom = centred, dims, keepdim, n - correction
        return out

    @staticmethod
    def backward(ctx, g):
        g = _expand(g, ctx.dims, ctx.keepdim)
        with xp.errstate(divide="ignore", invalid="ignore"):
            if ctx.denom > 0 or not ctx.whole:
                # with a dim given PyTorch divides by N - correction as it is, even if <= 0
                scale = 2.0 / ctx.denom if ctx.denom else xp.inf
                return g * ctx.centred * scale, None, None, None
            # x.var(): no degrees of freedom left, NaN where a_i = mean, else inf with g's sign
            return g * xp.where(ctx.centred == 0, xp.nan, xp.inf), None, None, None


class Std(Op):
    """z = sqrt(var);  dz/da_i = (a_i - mean) / ((N - correction) z)."""

    @staticmethod
    def forward(ctx, a, dims, correction, keepdim):
        a = as_float(a)
        mean = a.mean(axis=dims, keepdims=True)
        centred = a - mean
        n = _count(a.shape, dims)
        with xp.errstate(divide="ignore", invalid="ignore"):
            out = xp.sqrt((centred * centred).sum(axis=dims, keepdims=keepdim) / max(n - correction, 0))
        ctx.centred, ctx.dims, ctx.keepdim, ctx.denom, ctx.out = centred, dims, keepdim, n - correction, out
        return out

    @staticmethod
    def backward(ctx, g):
        g = _expand(g, ctx.dims, ctx.keepdim)
        out = _expand(ctx.out, ctx.dims, ctx.keepdim)
        with xp.errstate(divide="ignore", invalid="ignore"):
            # All elements equal: std = 0 and the gradient is taken as 0 (PyTorch's choice).
            return xp.where(out == 0, 0, g * ctx.centred / (ctx.denom * out)), None, None, None


class Amax(Op):
    """z = max_i a_i;  the gradient is shared evenly between the elements equal to the max."""

    reduce = staticmethod(xp.max)

    @classmethod
    def forward(cls, ctx, a, dims, keepdim):
        if any(a.shape[d] == 0 for d in dims):  # empty dims elsewhere are fine (PyTorch)
            name = (cls.backward_name or cls.__name__).lower()
            raise RuntimeError(f"{name}: cannot reduce an empty tensor of shape {tuple(a.shape)}")
        out = cls.reduce(a, axis=dims, keepdims=True)
        ctx.mask = a == out
        ctx.dims, ctx.keepdim = dims, keepdim
        return out if keepdim else out.reshape([n for i, n in enumerate(a.shape) if i not in dims])

    @staticmethod
    def backward(ctx, g):
        mask = ctx.mask
        g = _expand(g, ctx.dims, ctx.keepdim)
        share = mask / mask.sum(axis=ctx.dims, keepdims=True)
        return g * share.astype(g.dtype), None, None


class Amin(Amax):
    """z = min_i a_i;  the gradient is shared evenly between the elements equal to the min."""

    reduce = staticmethod(xp.min)


class MaxAll(Amax):
    """z = max of all a_i (``x.max()``): as Amax, but the elements that are not the max get an
    exact 0 even when the upstream gradient is inf or NaN (PyTorch fills them, amax multiplies)."""

    backward_name = "Max"

    @staticmethod
    def backward(ctx, g):
        mask = ctx.mask
        return xp.where(mask, g / mask.sum(), 0).astype(g.dtype), None, None


class MinAll(MaxAll):
    """z = min of all a_i (``x.min()``); the gradient as MaxAll's."""

    backward_name = "Min"
    reduce = staticmethod(xp.min)


class MaxDim(Op):
    """(values, indices) = max along ``dim``;  the gradient goes to the chosen index only."""

    pick = staticmethod(xp.argmax)

    @classmethod
    def forward(cls, ctx, a, dim, keepdim):
        if a.ndim == 0:
            ctx.idx = None
            return a.copy(), array_module(a).zeros((), xp.int64)
        if a.shape and a.shape[dim] == 0:
            raise IndexError(f"max/min: dimension {dim} of shape {tuple(a.shape)} is empty")
        idx = cls.pick(a, axis=dim, keepdims=True)
        values = xp.take_along_axis(a, idx, axis=dim)
        ctx.idx, ctx.dim, ctx.shape = idx, dim, a.shape
        if not keepdim:
            values = values.squeeze(dim)
            idx = idx.squeeze(dim)
        ctx.keepdim = keepdim
        return values, idx.astype(xp.int64)

    @staticmethod
    def backward(ctx, g, g_idx):
        if ctx.idx is None:   # a 0-d input
            return g, None, None
        if not ctx.keepdim:
            g = xp.expand_dims(g, ctx.dim)
        out = array_module(g).zeros(ctx.shape, dtype=g.dtype)
        xp.put_along_axis(out, ctx.idx, g, axis=ctx.dim)
        return out, None, None


class MinDim(MaxDim):
    """(values, indices) = min along ``dim``;  the gradient goes to the chosen index only."""

    pick = staticmethod(xp.argmin)


class LogSumExp(Op):
    """z = log sum_i e^(a_i), computed as m + log sum e^(a_i - m);  dz/da_i = e^(a_i - z)."""

    @staticmethod
    def forward(ctx, a, dims, keepdim):
        a = as_float(a)
        m = a.max(axis=dims, keepdims=True, initial=-xp.inf)  # an empty sum: log 0 = -inf
        m = xp.where(xp.isfinite(m), m, 0)
        out = m + xp.log(xp.exp(a - m).sum(axis=dims, keepdims=True))
        ctx.a, ctx.out, ctx.dims, ctx.keepdim = a, out, dims, keepdim
        return out if keepdim else out.squeeze(dims)

    @staticmethod
    def backward(ctx, g):
        g = _expand(g, ctx.dims, ctx.keepdim)
        return g * xp.exp(ctx.a - ctx.out), None, None


class Prod(Op):
    """z = prod_i a_i;  dz/da_i = prod_{j != i} a_j, which is z / a_i when no a_i is 0 (PyTorch
    divides then, so an infinite a_i gets inf / inf = NaN and an underflowed z gives 0), else
    computed without dividing (exclusive products), so zeros work."""

    @staticmethod
    def forward(ctx, a, dim, keepdim):
        ctx.a, ctx.dim, ctx.keepdim = a, dim, keepdim
        ctx.out = xp.prod(a) if dim is None else xp.prod(a, axis=dim, keepdims=keepdim)
        return ctx.out

    @staticmethod
    def backward(ctx, g):
        a, dim = ctx.a, ctx.dim
        if a.ndim and a.size and not (a == 0).any():
            out = ctx.out if dim is None or ctx.keepdim else xp.expand_dims(ctx.out, dim)
            if dim is not None and not ctx.keepdim:
                g = xp.expand_dims(g, dim)
            with xp.errstate(divide="ignore", invalid="ignore"):
                return g * (out / a), None, None
        if dim is None and a.ndim and (a == 0).sum() > 1:
            return xp.zeros_like(a), None, None     # every product of others holds a 0 (PyTorch)
        if dim is None:
            flat = a.reshape(-1)
            return (g * _prod_others(flat, 0)).reshape(a.shape), None, None
        if not ctx.keepdim:
            g = xp.expand_dims(g, dim)
        return g * _prod_others(a, dim), None, None


def _prod_others(a, axis):
    """For each element, the product of all the others along ``axis`` (exclusive cumprods)."""
    if a.shape[axis] == 0:
        return xp.zeros_like(a)
    a = xp.moveaxis(a, axis, -1)
    ones = array_module(a).ones(a.shape[:-1] + (1,), dtype=a.dtype)
    left = xp.cumprod(xp.concatenate([ones, a[..., :-1]], axis=-1), axis=-1)
    right = xp.flip(xp.cumprod(xp.concatenate([ones, xp.flip(a, -1)[..., :-1]], axis=-1), axis=-1), -1)
    return xp.moveaxis(left * right, -1, axis)


class Norm(Op):
    """z = (sum_i |a_i|^p)^(1/p);  dz/da_i = a_i |a_i|^(p-2) / z^(p-1)  (p = 2: a_i / z)."""

    @staticmethod
    def forward(ctx, a, p, dims, keepdim):
        a = as_float(a)
        absa = xp.abs(a)
        if p == float("inf"):
            out = absa.max(axis=dims, keepdims=True)
        elif p == -float("inf"):
            out = absa.min(axis=dims, keepdims=True)
        elif p == 0:
            out = (a != 0).sum(axis=dims, keepdims=True).astype(a.dtype)
        elif p == 1:
            out = absa.sum(axis=dims, keepdims=True)
        elif p == 2:
            out = xp.sqrt((a * a).sum(axis=dims, keepdims=True))
        else:
            out = (absa ** p).sum(axis=dims, keepdims=True) ** (1.0 / p)
        ctx.a, ctx.p, ctx.out, ctx.dims, ctx.keepdim = a, p, out, dims, keepdim
        return out if keepdim else out.squeeze(dims)

    @staticmethod
    def backward(ctx, g):
        a, p, out = ctx.a, ctx.p, ctx.out
        g = _expand(g, ctx.dims, ctx.keepdim)
        with xp.errstate(divide="ignore", invalid="ignore"):
            if p == 0:
                grad = xp.zeros_like(a)
            elif p == 1:
                grad = xp.sign(a)
            elif p in (float("inf"), -float("inf")):
                mask = xp.abs(a) == out
                grad = xp.sign(a) * mask / mask.sum(axis=ctx.dims, keepdims=True)
            elif p == 2:
                grad = xp.where(out == 0, 0, a / out)
            else:
                grad = xp.where(out == 0, 0, a * xp.abs(a) ** (p - 2) / out ** (p - 1))
        return g * grad, None, None, None


class Cumsum(Op):
    """z_i = sum_{j <= i} a_j;  dL/da_j = sum_{i >= j} dL/dz_i (a reversed cumulative sum)."""

    @staticmethod
    def forward(ctx, a, dim):
        ctx.dim = dim
        if a.ndim == 0:
            return a.copy()
        return xp.cumsum(a, axis=dim)

    @staticmethod
    def backward(ctx, g):
        if g.ndim == 0:
            return g, None
        d = ctx.dim
        return xp.flip(xp.cumsum(xp.flip(g, d), axis=d), d), None


class TopK(Op):
    """(values, indices) of the k largest (or smallest) along ``dim``; values' gradient goes back
    to the chosen positions."""

    @staticmethod
    def forward(ctx, a, k, dim, largest, sorted_):
        n = a.shape[dim] if a.ndim else 1
        if not 0 <= k <= n:
            raise RuntimeError(f"topk: k={k} is out of range for dimension {dim} of size {n}")
        if a.ndim == 0:
            ctx.idx, ctx.dim, ctx.shape = None, dim, a.shape
            return a.copy(), array_module(a).zeros((), xp.int64)
        key = -a if largest else a
        if a.dtype.kind == "b":
            key = -a.astype(xp.int8) if largest else a.astype(xp.int8)
        # A stable sort gives the first of equal values first, as PyTorch does on CPU.
        idx = xp.argsort(key, axis=dim, kind="stable")
        if largest and a.dtype.kind == "f":
            # PyTorch takes NaN as the largest value; NumPy sorts it last
            first = xp.argsort(~xp.isnan(xp.take_along_axis(a, idx, axis=dim)), axis=dim,
                               kind="stable")
            idx = xp.take_along_axis(idx, first, axis=dim)
        idx = xp.take(idx, array_module(idx).arange(k), axis=dim)
        values = xp.take_along_axis(a, idx, axis=dim)
        ctx.idx, ctx.dim, ctx.shape = idx, dim, a.shape
        return values, idx.astype(xp.int64)

    @staticmethod
    def backward(ctx, g, g_idx):
        if ctx.idx is None:
            return g, None, None, None, None
        out = array_module(g).zeros(ctx.shape, dtype=g.dtype)
        xp.put_along_axis(out, ctx.idx, g, axis=ctx.dim)
        return out, None, None, None, None
