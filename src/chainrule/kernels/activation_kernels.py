"""ReLU's forward and backward as single-pass kernels (compiled in ``chainrule.kernels``).

NumPy's ``g * (out > 0)`` makes two passes and a boolean temporary; the kernel reads g and out
once. It keeps NumPy's values exactly: the boolean becomes 1 or 0 in g's dtype and multiplies g,
so a negative g on a zero output gives -0.0 and an infinite or NaN g gives NaN there.
"""


def relu_forward(a, out):
    """out = max(a, 0), NaN propagating as NumPy's maximum (and -0.0 -> +0.0, as it does)."""
    for i in range(a.size):
        v = a[i]
        out[i] = 0 if v <= 0 else v     # NaN <= 0 is false: NaN passes through


def relu_backward(g, out, gx, one, zero):
    """gx = g * (out > 0), the mask as ``one``/``zero`` in g's dtype."""
    for i in range(g.size):
        gx[i] = g[i] * (one if out[i] > 0 else zero)


KERNELS = {"relu_forward": relu_forward, "relu_backward": relu_backward}
