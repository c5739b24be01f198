"""The optimisers' updates as single-pass kernels (compiled by Numba in ``chainrule.kernels``).

Each loop body is the NumPy code of ``chainrule.optim`` written per element, in its order:
the scalars arrive already cast to the arrays' dtype, as NumPy casts a Python float against a
float32 array, so every operation rounds as NumPy's does.
"""
import math


def sgd(x, g, lr):
    """``x -= lr g`` (plain SGD) in one pass, on C-contiguous arrays of any shape."""
    xf, gf = x.reshape(x.size), g.reshape(g.size)
    for i in prange(xf.size):
        xf[i] -= gf[i] * lr


def sgd_momentum(x, g, buf, lr, momentum, gain, nesterov):
    """``buf = momentum buf + gain g``; ``x -= lr (g + momentum buf)`` (Nesterov) or
    ``x -= lr buf``."""
    for i in prange(x.size):
        b = buf[i] * momentum + g[i] * gain
        buf[i] = b
        if nesterov:
            x[i] -= (b * momentum + g[i]) * lr
        else:
            x[i] -= b * lr


def adam(x, g, m, v, vmax, beta1, one_minus_beta1, beta2, one_minus_beta2, eps_scaled,
         step_scale, amsgrad):
    """Adam's step as ``chainrule.optim.Adam`` writes it in passes::

        m = beta1 m + (1 - beta1) g;   v = beta2 v + ((1 - beta2) g) g
        x -= (m / (sqrt(v) + eps sqrt(bc2))) (lr sqrt(bc2) / bc1)
    """
    for i in prange(x.size):
        gi = g[i]
        mi = m[i] * beta1 + gi * one_minus_beta1
        m[i] = mi
        vi = v[i] * beta2 + (gi * one_minus_beta2) * gi
        v[i] = vi
        if amsgrad:
            if vi > vmax[i] or math.isnan(vi):
                vmax[i] = vi
            vi = vmax[i]
        x[i] -= (mi / (math.sqrt(vi) + eps_scaled)) * step_scale


KERNELS = {"sgd": sgd, "sgd_momentum": sgd_momentum, "adam": adam}
PARALLEL = ("sgd", "sgd_momentum", "adam")

# The outer loops are ``prange``: plain ``range`` here (the kernels run as Python without
# Numba); ``chainrule.kernels`` binds Numba's prange before compiling, which a serial build
# treats as range and the parallel build (``PARALLEL``) splits over threads.
prange = range
