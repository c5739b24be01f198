"""ReLU's forward and backward as single-pass kernels (compiled in ``chainrule.kernels``).

NumPy's ``where(out > 0, g, 0)`` makes two passes and a boolean temporary; the kernel reads g and
out once. It keeps the same values exactly: where the output is not positive the gradient is an
exact +0.0, even for an infinite or NaN g (PyTorch's threshold_backward does the same).
"""

# The outer loops are ``prange``: plain ``range`` here (the kernels run as Python without
# Numba); ``chainrule.kernels`` binds Numba's prange before compiling, which a serial build
# treats as range and the parallel build (``PARALLEL``) splits over threads.
prange = range


def relu_forward(a, out):
    """out = max(0, a) as PyTorch's relu: NaN passes through, and so does -0.0."""
    for i in prange(a.size):
        v = a[i]
        out[i] = 0 if v < 0 else v      # NaN < 0 and -0.0 < 0 are false: both pass through


def relu_backward(g, out, gx, zero):
    """gx = g where out > 0, else ``zero`` (0 in g's dtype)."""
    for i in prange(g.size):
        gx[i] = g[i] if out[i] > 0 else zero


KERNELS = {"relu_forward": relu_forward, "relu_backward": relu_backward}
PARALLEL = ("relu_forward", "relu_backward")
