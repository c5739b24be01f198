"""Activation functions, one op each: Sigmoid, Tanh, ReLU and its relatives, the smooth and
the hard ones, Softmax and LogSoftmax, Maxout. Stable for any input: nothing here overflows for
|x| = 1000.
"""
import math

from .. import kernels
from ..backend import array_module, xp
from .base import Op, as_float

_SQRT_PI = math.sqrt(math.pi)
_SQRT_2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


def _exp_minus_square(x):
    """e^(-x^2) with x^2 split as (x_hi + x_lo)^2 so that its rounding does not spoil the result
    for large x (as in W. J. Cody's erfc)."""
    hi = xp.floor(x * 16) / 16
    return xp.exp(-hi * hi) * xp.exp(-(x - hi) * (x + hi))


def erfc_positive(x):
    """erfc(x) for x >= 2 by its continued fraction, evaluated from the tail:
    erfc x = e^(-x^2) / sqrt(pi) / (x + (1/2) / (x + 1 / (x + (3/2) / (x + 2 / (x + ...)))))."""
    f = x.copy()
    for k in range(60, 0, -1):
        f = x + (0.5 * k) / f
    return _exp_minus_square(x) / (_SQRT_PI * f)


def erf(x):
    """The error function in double precision (relative error ~1e-15; NumPy has none).

    |x| < 2: erf x = 2/sqrt(pi) e^(-x^2) sum_k 2^k x^(2k+1) / (1 3 5 ... (2k+1)), a series of
    positive terms (no cancellation). |x| >= 2: 1 - erfc|x| from the continued fraction.
    """
    x = array_module(x).asarray(x, dtype=xp.float64)
    out = xp.empty_like(x)
    a = xp.abs(x)
    small = a < 2.0
    if type(x) is not xp.ndarray:
        # on a GPU: both formulas everywhere and a select (a boolean gather would wait for
        # the device to count the elements); the unselected one may overflow, harmlessly
        with xp.errstate(all="ignore"):
            return xp.where(small, _erf_series(x), xp.sign(x) * (1.0 - erfc_positive(a)))
    if small.all():
        return _erf_series(x)
    out[small] = _erf_series(x[small])
    big = ~small
    xb = a[big]
    out[big] = xp.sign(x[big]) * (1.0 - erfc_positive(xb))
    return out


def _erf_series(x):
    x2 = x * x
    term = x.copy()
    total = x.copy()
    for k in range(1, 36):
        term *= x2 * (2.0 / (2 * k + 1))
        total += term
    return (2.0 / _SQRT_PI) * xp.exp(-x2) * total


def normal_cdf(x):
    """Phi(x) = (1 + erf(x / sqrt 2)) / 2, as PyTorch computes it for GELU."""
    return 0.5 * (1.0 + erf(x * (1.0 / _SQRT_2)))


class Tanh(Op):
    """z = tanh a;  dz/da = 1 - tanh^2 a = 1 - z^2."""

    @staticmethod
    def forward(ctx, a):
        out = xp.tanh(as_float(a))
        ctx.out = out
        return out

    @staticmethod
    def backward(ctx, g):
        out = ctx.out
        return g * (1 - out * out)


class Sigmoid(Op):
    """z = 1 / (1 + e^-a);  dz/da = z (1 - z).

    Computed from e^-|a| so that neither tail overflows (sigmoid(-1000) is 0, silently).
    """

    @staticmethod
    def forward(ctx, a):
        a = as_float(a)
        e = xp.exp(-xp.abs(a))
        out = xp.where(a >= 0, 1, e) / (1 + e)
        ctx.out = out
        return out

    @staticmethod
    def backward(ctx, g):
        out = ctx.out
        return g * out * (1 - out)


class ReLUReference(Op):
    """z = max(0, a);  dz/da = 1 where a > 0, else 0."""

    @staticmethod
    def forward(ctx, a):
        ctx.a = a
        return xp.maximum(a, 0)

    @staticmethod
    def backward(ctx, g):
        # where, not g * mask: an infinite upstream gradient must give 0 where a <= 0 (PyTorch)
        return xp.where(ctx.a > 0, g, 0)


class ReLU(Op):
    """z = max(0, a);  dz/da = 1 where a > 0, else 0.

    Fast path: large contiguous float inputs take the maximum block by block against a cached
    zeros block, which NumPy runs faster than against a broadcast scalar; with Numba (the
    ``fast`` extra) forward and backward are one-pass kernels (``kernels.activation_kernels``).
    """

    backward_name = "Relu"  # grad_fn prints PyTorch's name, ReluBackward0
    reference = ReLUReference

    # NumPy's maximum against a broadcast scalar 0 runs ~3x slower than against an array of
    # zeros, so large contiguous float inputs are compared block by block with a zeros block
    # (measured on 1024 x 256 float32: 97 -> 41 us).
    _BLOCK = 1 << 16
    _zeros = {}
    # One pass of a compiled kernel (chainrule.kernels) where Numba is there; below this size
    # its call costs more than NumPy's passes save.
    _KERNEL_MIN = 16384

    @staticmethod
    def forward(ctx, a):
        out = xp.maximum(a, 0) if a.size < 8192 else ReLU.positive_part(a)
        ctx.out = out
        return out

    @staticmethod
    def positive_part(a):
        """max(a, 0), NaN propagating as NumPy's maximum does."""
        out = kernels.elementwise("relu_forward", a, min_size=ReLU._KERNEL_MIN)
        if out is not None:
            return out
        if a.dtype.kind != "f" or a.size < 8192 or not a.flags.c_contiguous:
            return xp.maximum(a, 0)
        zeros = ReLU._zeros.get((type(a), a.dtype))
        if zeros is None:
            zeros = ReLU._zeros[type(a), a.dtype] = array_module(a).zeros(ReLU._BLOCK, a.dtype)
            zeros.flags.writeable = False
        out = xp.empty_like(a)
        flat_a, flat_out = a.reshape(-1), out.reshape(-1)
        n, block = a.size, ReLU._BLOCK
        for start in range(0, n, block):
            stop = min(start + block, n)
            xp.maximum(flat_a[start:stop], zeros[:stop - start], out=flat_out[start:stop])
        return out

    @staticmethod
    def backward(ctx, g):
        gx = kernels.elementwise("relu_backward", g, ctx.out, min_size=ReLU._KERNEL_MIN,
                                 scalars=(0,))
        # where, not g * mask: an infinite upstream gradient must give 0 where z <= 0 (PyTorch)
        return gx if gx is not None else xp.where(ctx.out > 0, g, 0)


class LeakyReLU(Op):
    """z = a if a > 0 else slope a;  dz/da = 1 if a > 0 else slope."""

    backward_name = "LeakyRelu"  # grad_fn prints PyTorch's name, LeakyReluBackward0

    @staticmethod
    def forward(ctx, a, slope):
        pos = a > 0
        ctx.pos, ctx.slope = pos, slope
        return xp.where(pos, a, a * slope)

    @staticmethod
    def backward(ctx, g):
        return xp.where(ctx.pos, g, g * ctx.slope), None


class ELU(Op):
    """z = a if a > 0 else alpha (e^a - 1);  dz/da = 1 if a > 0 else z + alpha."""

    backward_name = "Elu"  # grad_fn prints PyTorch's name, EluBackward0

    @staticmethod
    def forward(ctx, a, alpha):
        a = as_float(a)
        pos = a > 0
        out = xp.where(pos, a, alpha * xp.expm1(xp.minimum(a, 0)))
        ctx.pos, ctx.out, ctx.alpha = pos, out, alpha
        return out

    @staticmethod
    def backward(ctx, g):
        return xp.where(ctx.pos, g, g * (ctx.out + ctx.alpha)), None


class SELU(Op):
    """z = scale (a if a > 0 else alpha (e^a - 1)), alpha = 1.6733..., scale = 1.0507...;
    dz/da = scale if a > 0 else z + scale alpha."""

    backward_name = "Selu"  # grad_fn prints PyTorch's name, SeluBackward0

    alpha = 1.6732632423543772848170429916717
    scale = 1.0507009873554804934193349852946

    @classmethod
    def forward(cls, ctx, a):
        a = as_float(a)
        pos = a > 0
        out = cls.scale * xp.where(pos, a, cls.alpha * xp.expm1(xp.minimum(a, 0)))
        ctx.pos, ctx.out = pos, out
        return out

    @classmethod
    def backward(cls, ctx, g):
        return xp.where(ctx.pos, g * cls.scale, g * (ctx.out + cls.scale * cls.alpha))


class Softplus(Op):
    """z = log(1 + e^(beta a)) / beta, or a where beta a > threshold (PyTorch's linear regime);
    dz/da = sigmoid(beta a) (1 past the threshold). Computed as max(u, 0) + log1p(e^-|u|) so
    that softplus(1000) is 1000 and softplus(-1000) is 0 without overflow."""

    @staticmethod
    def forward(ctx, a, beta, threshold):
        a = as_float(a)
        u = a * beta if beta != 1 else a
        linear = u > threshold
        e = xp.exp(-xp.abs(u))
        soft = (xp.maximum(u, 0) + xp.log1p(e))
        if beta != 1:
            soft = soft / beta
        ctx.linear, ctx.u, ctx.e = linear, u, e
        return xp.where(linear, a, soft)

    @staticmethod
    def backward(ctx, g):
        u, e = ctx.u, ctx.e
        sig = xp.where(u >= 0, 1, e) / (1 + e)
        return xp.where(ctx.linear, g, g * sig), None, None


class GELU(Op):
    """Exact: z = a Phi(a), dz/da = Phi(a) + a phi(a) (phi the standard normal density).
    'tanh': z = a/2 (1 + tanh(k (a + 0.044715 a^3))), k = sqrt(2/pi)."""

    backward_name = "Gelu"  # grad_fn prints PyTorch's name, GeluBackward0

    @staticmethod
    def forward(ctx, a, approximate):
        a = as_float(a)
        ctx.a, ctx.approximate = a, approximate
        if approximate == "tanh":
            k = math.sqrt(2.0 / math.pi)
            t = xp.tanh(k * (a + 0.044715 * a * a * a))
            ctx.t = t
            return 0.5 * a * (1 + t)
        cdf = normal_cdf(a).astype(a.dtype, copy=False)
        ctx.cdf = cdf
        return a * cdf

    @staticmethod
    def backward(ctx, g):
        a = ctx.a
        if ctx.approximate == "tanh":
            k = math.sqrt(2.0 / math.pi)
            t = ctx.t
            inner_grad = k * (1 + 3 * 0.044715 * a * a)
            return g * (0.5 * (1 + t) + 0.5 * a * (1 - t * t) * inner_grad), None
        pdf = _INV_SQRT_2PI * xp.exp(-0.5 * a * a)
        return g * (ctx.cdf + a * pdf), None


class SiLU(Op):
    """z = a sigmoid(a) (swish);  dz/da = s (1 + a (1 - s)), s = sigmoid(a)."""

    backward_name = "Silu"  # grad_fn prints PyTorch's name, SiluBackward0

    @staticmethod
    def forward(ctx, a):
        a = as_float(a)
        e = xp.exp(-xp.abs(a))
        s = xp.where(a >= 0, 1, e) / (1 + e)
        ctx.a, ctx.s = a, s
        return a * s

    @staticmethod
    def backward(ctx, g):
        s = ctx.s
        return g * s * (1 + ctx.a * (1 - s))


class Mish(Op):
    """z = a tanh(softplus(a));  dz/da = t + a sigmoid(a) (1 - t^2), t = tanh(softplus(a))."""

    @staticmethod
    def forward(ctx, a):
        a = as_float(a)
        e = xp.exp(-xp.abs(a))
        t = xp.tanh(xp.maximum(a, 0) + xp.log1p(e))
        ctx.a, ctx.t, ctx.s = a, t, xp.where(a >= 0, 1, e) / (1 + e)
        return a * t

    @staticmethod
    def backward(ctx, g):
        t = ctx.t
        return g * (t + ctx.a * ctx.s * (1 - t * t))


class Hardtanh(Op):
    """z = clamp(a, lo, hi);  dz/da = 1 strictly inside (lo, hi), else 0 (PyTorch's convention,
    which differs from clamp's at the edges)."""

    @staticmethod
    def forward(ctx, a, lo, hi):
        ctx.inside = ~((a <= lo) | (a >= hi))  # a NaN input passes its gradient on (PyTorch)
        return xp.clip(a, lo, hi).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        return xp.where(ctx.inside, g, 0), None, None


class Hardsigmoid(Op):
    """z = clamp(a/6 + 1/2, 0, 1);  dz/da = 1/6 strictly inside (-3, 3)."""

    @staticmethod
    def forward(ctx, a):
        a = as_float(a)
        ctx.inside = (a > -3) & (a < 3)
        return xp.clip(a / 6 + 0.5, 0, 1).astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, g):
        return xp.where(ctx.inside, g / 6, 0)  # 0 where flat, even for a NaN g (PyTorch)


class Hardswish(Op):
    """z = a relu6(a + 3) / 6;  dz/da = 0 up to -3, 1 from 3 on, (2a + 3)/6 between (at the
    corners PyTorch takes the outer side's slope: 0 at -3, 1 at 3)."""

    @staticmethod
    def forward(ctx, a):
        a = as_float(a)
        ctx.a = a
        return a * xp.clip(a + 3, 0, 6) / 6

    @staticmethod
    def backward(ctx, g):
        a = ctx.a
        return xp.where(a <= -3, 0, xp.where(a < 3, g * ((2 * a + 3) / 6), g))


class Softsign(Op):
    """z = a / (1 + |a|);  dz/da = 1 / (1 + |a|)^2."""

    @staticmethod
    def forward(ctx, a):
        a = as_float(a)
        d = 1 + xp.abs(a)
        ctx.a, ctx.d = a, d
        return a / d

    @staticmethod
    def backward(ctx, g):
        # 1 / d - |a| / d^2 = 1 / d^2, written as PyTorch's composite a / (|a| + 1) computes it,
        # so an infinite upstream gradient gives inf - inf = NaN there too
        a, d = ctx.a, ctx.d
        with xp.errstate(invalid="ignore"):
            return g / d - g * a / (d * d) * xp.sign(a)


class PReLU(Op):
    """z = a if a > 0 else w a (w learned, one per channel or shared);
    dz/da = 1 or w, dz/dw = a where a <= 0."""

    backward_name = "Prelu"  # grad_fn prints PyTorch's name, PreluBackward0

    @staticmethod
    def forward(ctx, a, w):
        if w.size > 1 and a.ndim >= 2:
            w = w.reshape((1, -1) + (1,) * (a.ndim - 2))
        pos = a > 0
        ctx.a, ctx.w, ctx.pos, ctx.wshape = a, w, pos, w.shape
        return xp.where(pos, a, a * w)

    @staticmethod
    def backward(ctx, g):
        need = ctx.needs_input_grad
        ga = xp.where(ctx.pos, g, g * ctx.w) if need[0] else None
        gw = None
        if need[1]:
            gw = xp.where(ctx.pos, 0, g * ctx.a)
            if len(ctx.wshape) > 1:
                gw = gw.sum(axis=tuple(i for i in range(gw.ndim) if i != 1)).reshape(-1)
        return ga, gw


class Maxout(Op):
    """z_j = max_k a_{j,k} over the last axis (the k pieces of unit j); the gradient goes to the
    first maximal piece."""

    @staticmethod
    def forward(ctx, a):
        idx = a.argmax(axis=-1)[..., None]
        ctx.idx, ctx.shape = idx, a.shape
        return xp.take_along_axis(a, idx, axis=-1)[..., 0]

    @staticmethod
    def backward(ctx, g):
        out = array_module(g).zeros(ctx.shape, dtype=g.dtype)
        xp.put_along_axis(out, ctx.idx, g[..., None], axis=-1)
        return out


class Softmax(Op):
    """s_i = e^(a_i) / sum_j e^(a_j);  dL/da = s * (dL/ds - sum_j dL/ds_j s_j)."""

    @staticmethod
    def forward(ctx, a, dim):
        a = as_float(a)
        e = xp.exp(a - a.max(axis=dim, keepdims=True, initial=-xp.inf))
        out = e / e.sum(axis=dim, keepdims=True)
        ctx.out, ctx.dim = out, dim
        return out

    @staticmethod
    def backward(ctx, g):
        s = ctx.out
        gs = g * s
        return gs - s * gs.sum(axis=ctx.dim, keepdims=True), None


class LogSoftmax(Op):
    """y_i = a_i - logsumexp(a);  dL/da = dL/dy - softmax(a) * sum_j dL/dy_j."""

    @staticmethod
    def forward(ctx, a, dim):
        a = as_float(a)
        shifted = a - a.max(axis=dim, keepdims=True, initial=-xp.inf)
        out = shifted - xp.log(xp.exp(shifted).sum(axis=dim, keepdims=True))
        ctx.out, ctx.dim = out, dim
        return out

    @staticmethod
    def backward(ctx, g):
        return g - xp.exp(ctx.out) * g.sum(axis=ctx.dim, keepdims=True), None

