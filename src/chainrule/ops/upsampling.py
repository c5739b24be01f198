"""Upsampling: nearest by integer factors as one broadcast copy; every other resize (nearest,
nearest-exact, linear, cubic) as an interpolation matrix per axis, applied with
``pooling.Separable``."""
from ..backend import array_module, contiguous, xp
from .base import Op


class UpsampleNearestIntReference(Op):
    """Nearest upsampling by integer factors read off its formula: y[.., h, w] =
    x[.., h // sh, w // sw] as one gather with the source index of every output position;
    dL/dx = dL/dy scatter-added back to those sources. Same arguments as ``UpsampleNearestInt``.
    """

    @staticmethod
    def forward(ctx, x, factors):
        made = array_module(x)
        sources = xp.ix_(*[made.arange(n * f) // f for n, f in zip(x.shape[2:], factors)])
        ctx.sources, ctx.x_shape = sources, x.shape
        # NumPy lays out a gather after slices in its own order; the fast op's output is
        # C-contiguous, and ``is_contiguous`` should not depend on the path.
        return contiguous(x[(slice(None), slice(None)) + sources])

    @staticmethod
    def backward(ctx, g):
        gx = array_module(g).zeros(ctx.x_shape, dtype=g.dtype)
        xp.add.at(gx, (slice(None), slice(None)) + ctx.sources, g)
        return gx, None


class UpsampleNearestInt(Op):
    """Nearest upsampling by integer factors: y[.., h, w] = x[.., h // sh, w // sw] as a
    broadcast view copied once;  dL/dx = dL/dy summed over each sh x sw block. Unlike the twin's
    gather and scatter-add, both directions are one reshape and one contiguous pass."""

    reference = UpsampleNearestIntReference

    @staticmethod
    def forward(ctx, x, factors):
        ctx.factors = factors
        N, C = x.shape[:2]
        if len(factors) == 1:
            (f,) = factors
            L = x.shape[2]
            return xp.broadcast_to(x[:, :, :, None], (N, C, L, f)).reshape(N, C, L * f)
        (fh, fw) = factors
        H, W = x.shape[2:]
        return xp.broadcast_to(x[:, :, :, None, :, None],
                               (N, C, H, fh, W, fw)).reshape(N, C, H * fh, W * fw)

    @staticmethod
    def backward(ctx, g):
        N, C = g.shape[:2]
        if len(ctx.factors) == 1:
            (f,) = ctx.factors
            return g.reshape(N, C, -1, f).sum(axis=3), None
        fh, fw = ctx.factors
        H, W = g.shape[2] // fh, g.shape[3] // fw
        return g.reshape(N, C, H, fh, W, fw).sum(axis=(3, 5)), None


def nearest_matrix(n, m, scale, dtype):
    """(m, n) selection matrix of PyTorch's 'nearest': output i reads floor(i * scale), in
    float32 as PyTorch computes it (in float64, 4.5 / 2.25 rounds below 2)."""
    src = xp.arange(m, dtype=xp.float32) * xp.float32(scale)
    src = xp.minimum(xp.floor(src).astype(xp.int64), n - 1)
    sel = xp.zeros((m, n), dtype=dtype)
    sel[xp.arange(m), src] = 1
    return sel


def nearest_exact_matrix(n, m, scale, dtype):
    """(m, n) selection matrix of PyTorch's 'nearest-exact': output i reads
    floor((i + 0.5) * scale), the input pixel whose centre is nearest (in float32, as above)."""
    src = (xp.arange(m, dtype=xp.float32) + xp.float32(0.5)) * xp.float32(scale)
    src = xp.minimum(xp.floor(src).astype(xp.int64), n - 1)
    sel = xp.zeros((m, n), dtype=dtype)
    sel[xp.arange(m), src] = 1
    return sel


def _source_index(n, m, scale, align_corners, cubic):
    """PyTorch's source coordinate of each output index: i * (n - 1) / (m - 1) with corners
    aligned, else (i + 0.5) * scale - 0.5 (clamped at 0 except for cubic)."""
    i = xp.arange(m, dtype=xp.float64)
    if align_corners:
        return i * ((n - 1) / (m - 1) if m > 1 else 0.0)
    src = (i + 0.5) * scale - 0.5
    return src if cubic else xp.maximum(src, 0.0)


def _index_and_fraction(src, n):
    index = xp.minimum(xp.floor(src).astype(xp.int64), n - 1)
    return index, xp.clip(src - index, 0.0, 1.0)


def linear_matrix(n, m, scale, align_corners, dtype):
    """(m, n) weights of linear interpolation: output i = (1 - t) x[j] + t x[j + 1] with
    j = floor(src_i), t = src_i - j (the last input repeated past the edge)."""
    j, t = _index_and_fraction(_source_index(n, m, scale, align_corners, False), n)
    w = xp.zeros((m, n), dtype=xp.float64)
    rows = xp.arange(m)
    xp.add.at(w, (rows, j), 1.0 - t)
    xp.add.at(w, (rows, xp.minimum(j + 1, n - 1)), t)
    return w.astype(dtype)


def cubic_matrix(n, m, scale, align_corners, dtype, a=-0.75):
    """(m, n) weights of Keys' cubic convolution (a = -0.75, as PyTorch's 'bicubic'): output
    i = sum_k w_k(t) x[clamp(j - 1 + k)], k = 0..3, j = floor(src_i), t = src_i - j, with
    w(d) = (a + 2)|d|^3 - (a + 3)|d|^2 + 1 for |d| <= 1 and a|d|^3 - 5a|d|^2 + 8a|d| - 4a
    for 1 < |d| < 2 at the distances d = t + 1, t, 1 - t, 2 - t."""
    j, t = _index_and_fraction(_source_index(n, m, scale, align_corners, True), n)

    def near(d):
        return ((a + 2) * d - (a + 3)) * d * d + 1

    def far(d):
        return ((a * d - 5 * a) * d + 8 * a) * d - 4 * a

    w = xp.zeros((m, n), dtype=xp.float64)
    rows = xp.arange(m)
    for k, coef in enumerate((far(t + 1), near(t), near(1 - t), far(2 - t))):
        xp.add.at(w, (rows, xp.clip(j - 1 + k, 0, n - 1)), coef)
    return w.astype(dtype)
