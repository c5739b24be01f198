"""Cross-entropy's row passes over (samples, classes) logits (compiled in ``chainrule.kernels``).

With few classes (W5: 2048 rows of 65) NumPy's row-wise reductions and its broadcasts of a
(rows, 1) column run their inner loop 65 elements at a time, and their per-row overhead is most
of the cost. Each kernel here does a row in one go, with NumPy's operations in NumPy's order
(the maximum is exact; products and differences round once each), so results are bit-equal.
The exponential stays NumPy's, between the two.
"""


def minus_row_max(x, out):
    """out = x - x.max(axis=1, keepdims=True): a row holding NaN has a NaN maximum, as in
    NumPy, so all of its shifted values are NaN."""
    rows, classes = x.shape
    for i in range(rows):
        row, shifted = x[i], out[i]
        top, nan_at = row[0], -1
        for j in range(classes):
            v = row[j]
            top = v if v > top else top
            if v != v:
                nan_at = j
        if nan_at >= 0:   # NumPy's maximum of a row holding NaN is NaN
            top = row[nan_at]
        for j in range(classes):
            shifted[j] = row[j] - top


def softmax_minus_one_hot(e, s, up, per_row, target, gx):
    """gx = e * (u / s) with u then subtracted from each row's target column: the gradient of
    the mean (or summed, or per-sample) cross-entropy from e = exp(x - max x), its row sums s
    (rows, 1) and the target classes; u is the upstream gradient, ``up[i]`` for row i when
    ``per_row``, else ``up[0]`` for every row."""
    rows, classes = e.shape
    for i in range(rows):
        u = up[i] if per_row else up[0]
        scale = u / s[i, 0]
        er, gr = e[i], gx[i]
        for j in range(classes):
            gr[j] = er[j] * scale
        gr[target[i]] -= u


KERNELS = {"minus_row_max": minus_row_max, "softmax_minus_one_hot": softmax_minus_one_hot}
