"""Elementwise operations. Broadcasting is undone by the engine, so each backward may return a
gradient of the broadcast output's shape."""
from ..backend import is_array, xp
from .base import Op, as_float, promote


# -- arithmetic ------------------------------------------------------------------------------

class Add(Op):
    """z = a + b;  dz/da = 1, dz/db = 1."""

    @staticmethod
    def forward(ctx, a, b):
        a, b = promote(a, b)
        return a + b

    @staticmethod
    def backward(ctx, g):
        return g, g


class Sub(Op):
    """z = a - b;  dz/da = 1, dz/db = -1."""

    @staticmethod
    def forward(ctx, a, b):
        a, b = promote(a, b)
        return a - b

    @staticmethod
    def backward(ctx, g):
        return g, (-g if ctx.needs_input_grad[1] else None)


class Mul(Op):
    """z = a * b;  dz/da = b, dz/db = a."""

    @staticmethod
    def forward(ctx, a, b):
        a, b = promote(a, b)
        ctx.a, ctx.b = a, b
        return a * b

    @staticmethod
    def backward(ctx, g):
        need = ctx.needs_input_grad
        return (g * ctx.b if need[0] else None), (g * ctx.a if need[1] else None)


class Div(Op):
    """z = a / b;  dz/da = 1/b, dz/db = -a/b^2 = -z/b."""

    @staticmethod
    def forward(ctx, a, b):
        a, b = promote(a, b)
        # Integer division is true division into the default float (int / int -> float32).
        if is_array(a) and a.dtype.kind != "f":
            a = as_float(a)
        if is_array(b) and b.dtype.kind != "f":
            b = as_float(b)
        out = a / b
        ctx.b, ctx.out = b, out
        return out

    @staticmethod
    def backward(ctx, g):
        need = ctx.needs_input_grad
        gb = g / ctx.b
        return (gb if need[0] else None), (-gb * ctx.out if need[1] else None)


def _power(a, p):
    """a ** p as PyTorch computes it for a number p: a^-0.5 as 1 / sqrt(a), so -0.0 ** -0.5 is
    -inf (IEEE pow gives +inf); a^0.5 as sqrt(a) (-0.0 stays -0.0)."""
    if not is_array(p):
        if p == -0.5:
            return 1 / xp.sqrt(a)
        if p == 0.5:
            return xp.sqrt(a)
    return a ** p


class Pow(Op):
    """z = a^p;  dz/da = p a^(p-1),  dz/dp = a^p ln a."""

    @staticmethod
    def forward(ctx, a, p):
        a, p = promote(a, p)
        if is_array(p) and p.dtype.kind != "f" and is_array(a) \
                and a.dtype.kind != "f" and (p < 0).any():
            raise RuntimeError("pow: integers to negative integer powers are not allowed")
        with xp.errstate(divide="ignore", invalid="ignore"):
            out = _power(a, p)
        ctx.a, ctx.p, ctx.out = a, p, out
        return out

    @staticmethod
    def backward(ctx, g):
        a, p, out = ctx.a, ctx.p, ctx.out
        need = ctx.needs_input_grad
        ga = gp = None
        if need[0]:
            if not hasattr(p, "ndim") and p == 2:
                ga = g * 2 * a
            elif not hasattr(p, "ndim") and p == 0:
                ga = xp.zeros_like(g * a)
            else:
                with xp.errstate(divide="ignore", invalid="ignore"):
                    ga = g * p * _power(a, p - 1)
                if is_array(p):
                    ga = xp.where(p == 0, 0, ga)  # d/da a^0 = 0, also at a = 0 (PyTorch)
        if need[1]:
            with xp.errstate(divide="ignore", invalid="ignore"):
                # d/dp a^p = a^p ln a; PyTorch takes 0 where a == 0 and p >= 0.
                gp = g * xp.where((a == 0) & (p >= 0), 0, out * xp.log(a))
        return ga, gp


class Remainder(Op):
    """z = a - floor(a/b) b (the sign of b, as Python's %);  dz/da = 1, dz/db = -floor(a/b)."""

    @staticmethod
    def forward(ctx, a, b):
        a, b = promote(a, b)
        ctx.a, ctx.b = a, b
        if xp.result_type(a, b).kind != "f":
            return xp.remainder(a, b)
        # PyTorch's formula: fmod, moved by b where the signs differ; a zero keeps a's sign
        # (NumPy's remainder gives it b's: 0.0 % -1.5 is -0.0 there, 0.0 in PyTorch)
        with xp.errstate(invalid="ignore"):
            mod = xp.fmod(a, b)
            return xp.where((mod != 0) & ((b < 0) != (mod < 0)), mod + b, mod)

    @staticmethod
    def backward(ctx, g):
        need = ctx.needs_input_grad
        return g, (-g * xp.floor(ctx.a / ctx.b) if need[1] else None)


class Neg(Op):
    """z = -a;  dz/da = -1."""

    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, g):
        return -g


# -- unary functions --------------------------------------------------------------------------

class Exp(Op):
    """z = e^a;  dz/da = e^a = z."""

    @staticmethod
    def forward(ctx, a):
        out = xp.exp(as_float(a))
        ctx.out = out
        return out

    @staticmethod
    def backward(ctx, g):
        return g * ctx.out


class Log(Op):
    """z = ln a;  dz/da = 1/a."""

    @staticmethod
    def forward(ctx, a):
        a = as_float(a)
        ctx.a = a
        with xp.errstate(divide="ignore", invalid="ignore"):
            return xp.log(a)

    @staticmethod
    def backward(ctx, g):
        with xp.errstate(divide="ignore"):
            return g / ctx.a


class Log1p(Op):
    """z = ln(1 + a);  dz/da = 1/(1 + a)."""

    @staticmethod
    def forward(ctx, a):
        a = as_float(a)
        ctx.a = a
        with xp.errstate(divide="ignore", invalid="ignore"):
            return xp.log1p(a)

    @staticmethod
    def backward(ctx, g):
        with xp.errstate(divide="ignore"):
            return g / (1 + ctx.a)


class Expm1(Op):
    """z = e^a - 1;  dz/da = e^a = z + 1."""

    @staticmethod
    def forward(ctx, a):
        out = xp.expm1(as_float(a))
        ctx.out = out
        return out

    @staticmethod
    def backward(ctx, g):
        return g * (ctx.out + 1)


class Sqrt(Op):
    """z = sqrt(a);  dz/da = 1/(2 sqrt(a)) = 1/(2z)."""

    @staticmethod
    def forward(ctx, a):
        with xp.errstate(invalid="ignore"):
            out = xp.sqrt(as_float(a))
        ctx.out = out
        return out

    @staticmethod
    def backward(ctx, g):
        with xp.errstate(divide="ignore", invalid="ignore"):
            return g / (2 * ctx.out)


class Rsqrt(Op):
    """z = a^(-1/2);  dz/da = -1/2 a^(-3/2) = -z^3 / 2."""

    @staticmethod
    def forward(ctx, a):
        with xp.errstate(divide="ignore", invalid="ignore"):
            out = 1 / xp.sqrt(as_float(a))
        ctx.out = out
        return out

    @staticmethod
    def backward(ctx, g):
        return -0.5 * g * ctx.out ** 3


class Abs(Op):
    """z = |a|;  dz/da = sign(a) (0 at 0, as PyTorch)."""

    @staticmethod
    def forward(ctx, a):
        ctx.a = a
        return xp.abs(a)

    @staticmethod
    def backward(ctx, g):
        return g * xp.where(xp.isnan(ctx.a), 0, xp.sign(ctx.a))  # PyTorch's sgn(NaN) = 0


class Sign(Op):
    """z = sign(a);  dz/da = 0 almost everywhere."""

    @staticmethod
    def forward(ctx, a):
        return xp.where(xp.isnan(a), 0, xp.sign(a)).astype(a.dtype)  # sign(NaN) = 0 (PyTorch)

    @staticmethod
    def backward(ctx, g):
        return xp.zeros_like(g)


class Sin(Op):
    """z = sin a;  dz/da = cos a."""

    @staticmethod
    def forward(ctx, a):
        a = as_float(a)
        ctx.a = a
        return xp.sin(a)

    @staticmethod
    def backward(ctx, g):
        return g * xp.cos(ctx.a)


class Cos(Op):
    """z = cos a;  dz/da = -sin a."""

    @staticmethod
    def forward(ctx, a):
        a = as_float(a)
        ctx.a = a
        return xp.cos(a)

    @staticmethod
    def backward(ctx, g):
        return -g * xp.sin(ctx.a)


class Reciprocal(Op):
    """z = 1/a;  dz/da = -1/a^2 = -z^2."""

    @staticmethod
    def forward(ctx, a):
        with xp.errstate(divide="ignore"):
            out = 1 / as_float(a)
        ctx.out = out
        return out

    @staticmethod
    def backward(ctx, g):
        out = ctx.out
        return -g * out * out


class Square(Op):
    """z = a^2;  dz/da = 2a."""

    @staticmethod
    def forward(ctx, a):
        ctx.a = a
        return a * a

    @staticmethod
    def backward(ctx, g):
        return 2 * g * ctx.a


class Clamp(Op):
    """z = min(max(a, lo), hi);  dz/da = 1 where lo <= a <= hi, else 0."""

    @staticmethod
    def forward(ctx, a, lo, hi):
        if a.dtype.kind != "f" and (type(lo) is float or type(hi) is float):
            a = as_float(a)  # int tensor clamped to a float bound: float32, as PyTorch
        if lo is not None and hi is not None:
            out = xp.clip(a, lo, hi)
        elif lo is not None:
            out = xp.maximum(a, lo)
        else:
            out = xp.minimum(a, hi)
        if is_array(out) and out.dtype != a.dtype and a.dtype.kind == "f":
            out = out.astype(a.dtype)
        ctx.a, ctx.lo, ctx.hi = a, lo, hi
        return out

    @staticmethod
    def backward(ctx, g):
        a, lo, hi = ctx.a, ctx.lo, ctx.hi
        keep = True
        if lo is not None:
            keep = a >= lo
        if hi is not None:
            keep = keep & (a <= hi)
        return xp.where(keep, g, 0), None, None


class ClampTensor(Op):
    """z = min(max(a, lo), hi) with tensor bounds;  dz/da = 1 where lo <= a <= hi, dz/dlo = 1
    where a < lo (and lo < hi), dz/dhi = 1 where a > hi (or hi < lo): PyTorch's masks, so a tie
    sends the whole gradient to ``a``."""

    @staticmethod
    def forward(ctx, a, lo, hi):
        out = a
        if lo is not None:
            a, lo = promote(a, lo)
            out = xp.maximum(a, lo)
        if hi is not None:
            out, hi = promote(out, hi)
            out = xp.minimum(out, hi)
        ctx.a, ctx.lo, ctx.hi = a, lo, hi
        return out

    @staticmethod
    def backward(ctx, g):
        a, lo, hi = ctx.a, ctx.lo, ctx.hi
        keep = True
        if lo is not None:
            keep = a >= lo
        if hi is not None:
            keep = keep & (a <= hi)
        g_lo = g_hi = None
        need = ctx.needs_input_grad
        if need[1]:
            g_lo = xp.where((a < lo) & (lo < hi) if hi is not None else a < lo, g, 0)
        if need[2]:
            g_hi = xp.where((a > hi) | (hi < lo) if lo is not None else a > hi, g, 0)
        return xp.where(keep, g, 0), g_lo, g_hi


class Maximum(Op):
    """z = max(a, b);  the gradient goes to the larger input, split in half on ties (PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        a, b = promote(a, b)
        ctx.a, ctx.b = a, b
        return xp.maximum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.a, ctx.b
        # PyTorch's masks: a NaN operand compares false both ways, so both inputs get g
        shared = xp.where(a == b, g * 0.5, g)
        return xp.where(a < b, 0, shared), xp.where(a > b, 0, shared)


class Minimum(Op):
    """z = min(a, b);  the gradient goes to the smaller input, split in half on ties (PyTorch)."""

    @staticmethod
    def forward(ctx, a, b):
        a, b = promote(a, b)
        ctx.a, ctx.b = a, b
        return xp.minimum(a, b)

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.a, ctx.b
        shared = xp.where(a == b, g * 0.5, g)
        return xp.where(a > b, 0, shared), xp.where(a < b, 0, shared)


class Where(Op):
    """z = a where cond else b;  dz/da = cond, dz/db = not cond."""

    @staticmethod
    def forward(ctx, cond, a, b):
        a, b = promote(a, b)
        ctx.cond = cond
        return xp.where(cond, a, b)

    @staticmethod
    def backward(ctx, g):
        cond = ctx.cond
        need = ctx.needs_input_grad
        return (None,
                xp.where(cond, g, 0) if need[1] else None,
                xp.where(cond, 0, g) if need[2] else None)


class Copy(Op):
    """z = a (a new array);  dz/da = 1.  ``clone()``."""

    @staticmethod
    def forward(ctx, a):
        return a.copy()

    @staticmethod
    def backward(ctx, g):
        return g


class Cast(Op):
    """z = a converted to another dtype;  dz/da = 1 (the engine casts the gradient back)."""

    @staticmethod
    def forward(ctx, a, np_dtype):
        return a.astype(np_dtype)

    @staticmethod
    def backward(ctx, g):
        return g, None


# -- hyperbolic functions ----------------------------------------------------------------------

class Sinh(Op):
    """z = sinh a = (e^a - e^-a)/2;  dz/da = cosh a."""

    @staticmethod
    def forward(ctx, a):
        a = as_float(a)
        ctx.a = a
        return xp.sinh(a)

    @staticmethod
    def backward(ctx, g):
        return g * xp.cosh(ctx.a)


class Cosh(Op):
    """z = cosh a = (e^a + e^-a)/2;  dz/da = sinh a."""

    @staticmethod
    def forward(ctx, a):
        a = as_float(a)
        ctx.a = a
        return xp.cosh(a)

    @staticmethod
    def backward(ctx, g):
        return g * xp.sinh(ctx.a)


class Asinh(Op):
    """z = asinh a = ln(a + sqrt(a^2 + 1));  dz/da = 1/sqrt(a^2 + 1)."""

    @staticmethod
    def forward(ctx, a):
        a = as_float(a)
        ctx.a = a
        return xp.arcsinh(a)

    @staticmethod
    def backward(ctx, g):
        a = ctx.a
        return g / xp.sqrt(a * a + 1)


class Acosh(Op):
    """z = acosh a = ln(a + sqrt(a^2 - 1)) for a >= 1;  dz/da = 1/sqrt(a^2 - 1)."""

    @staticmethod
    def forward(ctx, a):
        a = as_float(a)
        ctx.a = a
        with xp.errstate(invalid="ignore"):
            return xp.arccosh(a)

    @staticmethod
    def backward(ctx, g):
        a = ctx.a
        with xp.errstate(divide="ignore", invalid="ignore"):
            return g / xp.sqrt(a * a - 1)


class Atanh(Op):
    """z = atanh a = ln((1 + a)/(1 - a))/2 for |a| < 1;  dz/da = 1/(1 - a^2)."""

    @staticmethod
    def forward(ctx, a):
        a = as_float(a)
        ctx.a = a
        with xp.errstate(divide="ignore", invalid="ignore"):
            return xp.arctanh(a)

    @staticmethod
    def backward(ctx, g):
        a = ctx.a
        with xp.errstate(divide="ignore"):
            return g / (1 - a * a)
