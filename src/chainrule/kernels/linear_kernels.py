"""The affine map's bias as a kernel, and its product for a few rows (compiled in
``chainrule.kernels``).

``y += b`` over a (rows, features) product is one NumPy pass on one core; the kernel's parallel
build splits the rows over the threads (W6 at batch 1024: 1.88 -> 1.77 ms a step). Each element
gets the one addition NumPy makes, so the results are bit-equal.

``row_products``: y = x W^T + b for an x of a few rows (a model answering one request: W6 at
batch 1). NumPy hands that to BLAS as matrix-vector products on one core, each followed by a
pass for the bias; the kernel splits W's rows over the threads, four at a time (each element of
x read once for four of them), and adds the bias (and, fused, a ReLU) as it writes. It is the
one kernel compiled with reassociation (``FASTMATH``): the compiler may split each sum into
vector lanes, as BLAS does, so its results agree with NumPy's product to rounding, not bit for
bit. They do not depend on the thread count (each sum is one thread's), and NaN and infinities
propagate as in any product.
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


def _dot(w_row, x_row):
    s = w_row.dtype.type(0)
    for j in range(x_row.shape[0]):
        s += w_row[j] * x_row[j]
    return s


def _dot4(w0, w1, w2, w3, x_row):
    """The sums of four rows of W times one row of x, each x[j] loaded once for the four."""
    s0 = s1 = s2 = s3 = w0.dtype.type(0)
    for j in range(x_row.shape[0]):
        xj = x_row[j]
        s0 += w0[j] * xj
        s1 += w1[j] * xj
        s2 += w2[j] * xj
        s3 += w3[j] * xj
    return s0, s1, s2, s3


def _finish(v, bias, relu):
    v += bias
    return 0 if relu and v < 0 else v     # NaN and -0.0 pass through, as relu_forward


def row_products(x, w, b, out, relu):
    """out[m, i] = sum_j x[m, j] w[i, j] + b[i] (relu'd with ``relu``) for x (M, K) with a few
    rows, w (N, K), b (N,), out (M, N), all C-contiguous, one dtype. W's rows are taken four
    at a time over the threads."""
    M = x.shape[0]
    N = w.shape[0]
    for block in prange((N + 3) // 4):
        i = block * 4
        if i + 4 <= N:
            for m in range(M):
                s0, s1, s2, s3 = _dot4(w[i], w[i + 1], w[i + 2], w[i + 3], x[m])
                out[m, i] = _finish(s0, b[i], relu)
                out[m, i + 1] = _finish(s1, b[i + 1], relu)
                out[m, i + 2] = _finish(s2, b[i + 2], relu)
                out[m, i + 3] = _finish(s3, b[i + 3], relu)
        else:
            for r in range(i, N):
                for m in range(M):
                    out[m, r] = _finish(_dot(w[r], x[m]), b[r], relu)


KERNELS = {"bias_add": bias_add, "bias_relu": bias_relu, "row_products": row_products}
PARALLEL = ("bias_add", "bias_relu", "row_products")
HELPERS = {"_dot": _dot, "_dot4": _dot4, "_finish": _finish}
# Numba's fastmath flags per kernel: reassociation (and multiply-add contraction) lets a sum's
# loop run in vector lanes; no flag that assumes away NaN or infinity
FASTMATH = dict.fromkeys(("row_products", "_dot", "_dot4"), {"reassoc", "contract"})
