"""Normalisation over some axes (layer, group, instance, batch norm in training) and batch norm
in eval mode, each one op."""
from ..backend import xp
from .base import Op


class NormalizeReference(Op):
    """y = xhat w + b with xhat = (x - mean) / sqrt(var + eps), mean = sum x / m and
    var = sum (x - mean)^2 / m over ``axes`` (m elements per statistic).

    Backward, the chain rule through each intermediate in turn (sums over ``axes``):
        dL/dxhat = g w
        dL/dvar  = sum dL/dxhat (x - mean) (-1/2) (var + eps)^(-3/2)
        dL/dmean = sum dL/dxhat (-1 / sqrt(var + eps)) + dL/dvar sum -2 (x - mean) / m
        dL/dx    = dL/dxhat / sqrt(var + eps) + dL/dvar 2 (x - mean) / m + dL/dmean / m
    and dL/dw = sum g xhat, dL/db = sum g over ``param_axes``.
    ``stats`` (a dict or None) receives the batch mean and variance for running statistics.
    """

    @staticmethod
    def forward(ctx, x, weight, bias, axes, param_shape, param_axes, eps, stats):
        mean = x.mean(axis=axes, keepdims=True)
        var = ((x - mean) ** 2).mean(axis=axes, keepdims=True)
        xhat = (x - mean) / xp.sqrt(var + eps)
        y = xhat
        if weight is not None:
            y = y * weight.reshape(param_shape)
        if bias is not None:
            y = y + bias.reshape(param_shape)
        if stats is not None:
            stats["mean"], stats["var"] = mean, var
        ctx.x, ctx.mean, ctx.var, ctx.xhat, ctx.eps = x, mean, var, xhat, eps
        ctx.weight, ctx.bias, ctx.param_shape = weight, bias, param_shape
        ctx.axes, ctx.param_axes = axes, param_axes
        return y

    @staticmethod
    def backward(ctx, g):
        x, mean, var, xhat, eps, axes = ctx.x, ctx.mean, ctx.var, ctx.xhat, ctx.eps, ctx.axes
        need = ctx.needs_input_grad
        gx = gw = gb = None
        if need[0]:
            m = x.size // mean.size
            gxhat = g * ctx.weight.reshape(ctx.param_shape) if ctx.weight is not None else g
            gvar = (gxhat * (x - mean) * -0.5 * (var + eps) ** -1.5).sum(axis=axes, keepdims=True)
            gmean = ((gxhat * (-1 / xp.sqrt(var + eps))).sum(axis=axes, keepdims=True)
                     + gvar * (-2 * (x - mean)).sum(axis=axes, keepdims=True) / m)
            gx = gxhat / xp.sqrt(var + eps) + gvar * 2 * (x - mean) / m + gmean / m
        if need[1]:
            gw = (g * xhat).sum(axis=ctx.param_axes).reshape(ctx.weight.shape)
        if need[2]:
            gb = g.sum(axis=ctx.param_axes).reshape(ctx.bias.shape)
        return gx, gw, gb, None, None, None, None, None


class Normalize(Op):
    """y = (x - mean) / sqrt(var + eps) * w + b, statistics over ``axes`` (batch norm: all but the
    channel axis; layer norm: the trailing axes), biased variance.

    Fast path: the backward is the chain rule's closed form, computed in place. With xhat the
    normalised input, m the count per statistic and gh = dL/dxhat = g w:
    dL/dx = (1/m) / sqrt(var + eps) (m gh - sum gh - xhat sum(gh xhat)),
    dL/dw = sum g xhat, dL/db = sum g (sums over ``param_axes``).
    ``stats`` (a dict or None) receives the batch mean and variance for running statistics.
    """

    reference = NormalizeReference

    @staticmethod
    def forward(ctx, x, weight, bias, axes, param_shape, param_axes, eps, stats):
        mean = x.mean(axis=axes, keepdims=True)
        xc = x - mean
        var = xp.mean(xc * xc, axis=axes, keepdims=True)
        invstd = 1.0 / xp.sqrt(var + eps)
        xhat = xc
        xhat *= invstd
        w = weight.reshape(param_shape) if weight is not None else None
        if w is not None:
            out = xhat * w
            if bias is not None:
                out += bias.reshape(param_shape)
        elif bias is not None:
            out = xhat + bias.reshape(param_shape)
        else:
            out = xhat.copy()
        if stats is not None:
            stats["mean"], stats["var"] = mean, var
        ctx.xhat, ctx.invstd, ctx.w, ctx.axes, ctx.param_axes = xhat, invstd, w, axes, param_axes
        ctx.wshape = weight.shape if weight is not None else None
        ctx.bshape = bias.shape if bias is not None else None
        return out

    @staticmethod
    def backward(ctx, g):
        xhat, axes = ctx.xhat, ctx.axes
        need = ctx.needs_input_grad
        gx = gw = gb = None
        if need[0]:
            gh = g * ctx.w if ctx.w is not None else g
            m = xhat.size // ctx.invstd.size if ctx.invstd.size else 0  # 0-size input
            gx = m * gh
            gx -= gh.sum(axis=axes, keepdims=True)
            gx -= xhat * (gh * xhat).sum(axis=axes, keepdims=True)
            gx *= ctx.invstd / max(m, 1)
        if need[1]:
            gw = (g * xhat).sum(axis=ctx.param_axes).reshape(ctx.wshape)
        if need[2]:
            gb = g.sum(axis=ctx.param_axes).reshape(ctx.bshape)
        return gx, gw, gb, None, None, None, None, None


class RunningStats(Op):
    """Batch norm's running statistics, moved in place towards the batch's (not differentiable):
    running_mean = (1 - m) running_mean + m mean,
    running_var = (1 - m) running_var + m n / (n - 1) var (the unbiased variance of n values),
    with ``stats`` the batch mean and (biased) variance that ``Normalize`` stored. With
    ``num_batches_tracked`` (an int64 0-d array) it counts the update, and ``momentum`` None
    takes m = 1 / count (the cumulative average).

    An op, rather than Python around one, so that ``cr.compile``'s replay repeats the update:
    ``writes_inputs`` names the arguments it writes into (the caller advances their versions).
    Returns an empty array."""

    writes_inputs = (0, 1, 2)

    @staticmethod
    def forward(ctx, running_mean, running_var, num_batches_tracked, stats, momentum, count):
        if num_batches_tracked is not None:
            num_batches_tracked += 1
            if momentum is None:
                momentum = 1.0 / float(num_batches_tracked)
        m = 0.0 if momentum is None else momentum
        running_mean *= 1 - m
        running_mean += m * stats["mean"].reshape(-1)
        running_var *= 1 - m
        running_var += (m * count / (count - 1)) * stats["var"].reshape(-1)
        return xp.empty(0, dtype=running_mean.dtype)

    @staticmethod
    def backward(ctx, g):
        return None, None, None, None, None, None


class BatchNormEval(Op):
    """y = (x - running_mean) / sqrt(running_var + eps) * w + b: an affine map per channel;
    dL/dx = g w / sqrt(var + eps), dL/dw = sum g xhat, dL/db = sum g."""

    @staticmethod
    def forward(ctx, x, running_mean, running_var, weight, bias, param_shape, eps):
        invstd = (1.0 / xp.sqrt(running_var + eps)).reshape(param_shape)
        mean = running_mean.reshape(param_shape)
        scale = invstd * weight.reshape(param_shape) if weight is not None else invstd
        out = (x - mean) * scale
        if bias is not None:
            out += bias.reshape(param_shape)
        ctx.x, ctx.mean, ctx.invstd, ctx.scale = x, mean, invstd, scale
        return out.astype(x.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        need = ctx.needs_input_grad
        axes = tuple(i for i in range(g.ndim) if i != 1)
        gx = g * ctx.scale if need[0] else None
        gw = (g * (ctx.x - ctx.mean) * ctx.invstd).sum(axis=axes) if need[3] else None
        gb = g.sum(axis=axes) if need[4] else None
        return gx, None, None, gw, gb, None, None
