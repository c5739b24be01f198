"""The 2-D datasets of playground.tensorflow.org, plus a few multi-class ones.

The six playground sets follow ``src/dataset.ts`` of tensorflow/playground rule for rule (the
point clouds, the label rules and the noise model), vectorised with NumPy:

- ``noise`` is the playground's slider divided by 100 (0 to 0.5). Except for ``gaussian``, noise
  moves the point that is *labelled*, not the point that is drawn: the label is computed at
  ``(x + u * noise, y + v * noise)`` with ``u, v`` uniform on [-r, r], so noisy sets have points on
  the wrong side of the boundary while the cloud itself keeps its shape.
- Classification labels are the playground's -1/+1 mapped to 0/1 (``label == +1`` becomes 1); pass
  ``signed=True`` for the original float -1/+1 (for a tanh output and squared error, as on the site).
- Points are shuffled (the site shuffles too), so any prefix is a fair sample.

Each function returns ``(X, y)``: X float32 of shape (n, 2), y int64 of shape (n,) for
classification, float32 of shape (n,) for regression.
"""
import numpy as np

from ..random import rng as _default_rng
from ..tensor import Tensor
from ..autograd.tensor_base import make_tensor

PLAYGROUND_RADIUS = 6.0


def _rng(seed):
    return _default_rng() if seed is None else np.random.Generator(np.random.PCG64(int(seed)))


def _check(n, noise, name):
    if int(n) != n or n < 1:
        raise ValueError(f"{name}: n must be a positive integer, got {n!r}")
    if not 0 <= noise <= 10:
        raise ValueError(f"{name}: noise must be >= 0 (the playground slider / 100, 0 to 0.5), "
                         f"got {noise!r}")
    return int(n)


def _halves(n):
    return n - n // 2, n // 2


def _finish(x, y, label, g, kind):
    """Shuffle; ``kind`` is "signed" (-1/+1 floats), "binary" (-1/+1 -> 0/1), "classes" (ints) or
    "regression" (floats)."""
    order = g.permutation(len(x))
    X = make_tensor(np.stack([x, y], axis=1)[order].astype(np.float32))
    label = label[order]
    if kind == "binary":
        return X, make_tensor((label > 0).astype(np.int64))
    if kind == "classes":
        return X, make_tensor(label.astype(np.int64))
    return X, make_tensor(label.astype(np.float32))


def _binary(signed):
    return "signed" if signed else "binary"


def _uniform(g, a, b, n):
    return g.random(n) * (b - a) + a


def circle(n=500, noise=0.0, seed=None, signed=False):
    """Inner disc (label +1, radius r ~ U[0, 2.5]) and outer ring (label -1, r ~ U[3.5, 5]); the
    label is +1 iff the noise-shifted point lies within 2.5 of the origin."""
    n = _check(n, noise, "circle")
    g, radius = _rng(seed), 5.0
    xs, ys = [], []
    for count, (lo, hi) in zip(_halves(n), ((0, radius * 0.5), (radius * 0.7, radius))):
        r = _uniform(g, lo, hi, count)
        angle = _uniform(g, 0, 2 * np.pi, count)
        xs.append(r * np.sin(angle))
        ys.append(r * np.cos(angle))
    x, y = np.concatenate(xs), np.concatenate(ys)
    nx = _uniform(g, -radius, radius, n) * noise
    ny = _uniform(g, -radius, radius, n) * noise
    label = np.where(np.hypot(x + nx, y + ny) < radius * 0.5, 1.0, -1.0)
    return _finish(x, y, label, g, _binary(signed))


def xor(n=500, noise=0.0, seed=None, signed=False):
    """x, y ~ U[-5, 5] pushed 0.3 away from the axes; label +1 iff x * y >= 0 (noise-shifted)."""
    n = _check(n, noise, "xor")
    g, padding = _rng(seed), 0.3
    x = _uniform(g, -5, 5, n)
    x += np.where(x > 0, padding, -padding)
    y = _uniform(g, -5, 5, n)
    y += np.where(y > 0, padding, -padding)
    nx = _uniform(g, -5, 5, n) * noise
    ny = _uniform(g, -5, 5, n) * noise
    label = np.where((x + nx) * (y + ny) >= 0, 1.0, -1.0)
    return _finish(x, y, label, g, _binary(signed))


def gaussian(n=500, noise=0.0, seed=None, signed=False):
    """Two Gaussian clouds around (2, 2) (label +1) and (-2, -2) (label -1); noise widens them:
    variance = 0.5 + 7 * noise (the playground maps noise 0..0.5 onto variance 0.5..4)."""
    n = _check(n, noise, "gaussian")
    g = _rng(seed)
    variance = 0.5 + (4 - 0.5) * noise / 0.5
    pos, neg = _halves(n)
    centre = np.concatenate([np.full(pos, 2.0), np.full(neg, -2.0)])
    x = centre + np.sqrt(variance) * g.standard_normal(n)
    y = centre + np.sqrt(variance) * g.standard_normal(n)
    label = np.concatenate([np.ones(pos), -np.ones(neg)])
    return _finish(x, y, label, g, _binary(signed))


def _spiral_arms(g, n, arms, noise):
    xs, ys, labels = [], [], []
    for arm, count in enumerate(np.array_split(np.arange(n), arms)):
        m = len(count)
        i = np.arange(m)
        r = i / m * 5
        t = 1.75 * i / m * 2 * np.pi + 2 * np.pi * arm / arms
        xs.append(r * np.sin(t) + _uniform(g, -1, 1, m) * noise)
        ys.append(r * np.cos(t) + _uniform(g, -1, 1, m) * noise)
        labels.append(np.full(m, arm))
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(labels)


def spiral(n=500, noise=0.0, seed=None, signed=False):
    """Two interleaved arms r = 5 i / m, t = 3.5 pi i / m (+ pi for the second, label -1), each
    coordinate shifted by U[-1, 1] * noise."""
    n = _check(n, noise, "spiral")
    g = _rng(seed)
    x, y, arm = _spiral_arms(g, n, 2, noise)
    return _finish(x, y, np.where(arm == 0, 1.0, -1.0), g, _binary(signed))


def plane(n=500, noise=0.0, seed=None):
    """Regression: x, y ~ U[-6, 6], target (x + y) / 10 at the noise-shifted point."""
    n = _check(n, noise, "plane")
    g, r = _rng(seed), PLAYGROUND_RADIUS
    x, y = _uniform(g, -r, r, n), _uniform(g, -r, r, n)
    nx, ny = _uniform(g, -r, r, n) * noise, _uniform(g, -r, r, n) * noise
    return _finish(x, y, ((x + nx) + (y + ny)) / 10, g, "regression")


_GAUSSIANS = np.array([[-4, 2.5, 1], [0, 2.5, -1], [4, 2.5, 1],
                       [-4, -2.5, -1], [0, -2.5, 1], [4, -2.5, -1]], dtype=np.float64)


def multi_gaussian(n=500, noise=0.0, seed=None):
    """Regression: six signed bumps sign * max(0, 1 - d / 2) at (+-4 or 0, +-2.5); the target is the
    bump largest in absolute value at the noise-shifted point (the first one wins ties)."""
    n = _check(n, noise, "multi_gaussian")
    g, r = _rng(seed), PLAYGROUND_RADIUS
    x, y = _uniform(g, -r, r, n), _uniform(g, -r, r, n)
    px = x + _uniform(g, -r, r, n) * noise
    py = y + _uniform(g, -r, r, n) * noise
    d = np.hypot(px[:, None] - _GAUSSIANS[:, 0], py[:, None] - _GAUSSIANS[:, 1])
    bumps = _GAUSSIANS[:, 2] * np.clip(1 - d / 2, 0, 1)
    best = np.argmax(np.abs(bumps), axis=1)
    label = bumps[np.arange(n), best]
    return _finish(x, y, label, g, "regression")


# -- multi-class sets ----------------------------------------------------------------------------
def two_moons(n=500, noise=0.1, seed=None):
    """Two interleaving half circles (scikit-learn's ``make_moons``): class 0 on
    (cos t, sin t), class 1 on (1 - cos t, 0.5 - sin t), t evenly spaced on [0, pi], plus Gaussian
    noise of standard deviation ``noise``."""
    n = _check(n, noise, "two_moons")
    g = _rng(seed)
    n_out, n_in = _halves(n)
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    x = np.concatenate([np.cos(t_out), 1 - np.cos(t_in)]) + g.standard_normal(n) * noise
    y = np.concatenate([np.sin(t_out), 0.5 - np.sin(t_in)]) + g.standard_normal(n) * noise
    label = np.concatenate([np.zeros(n_out), np.ones(n_in)])
    return _finish(x, y, label, g, "classes")


def blobs(n=500, k=3, noise=1.0, seed=None):
    """``k`` Gaussian clusters of standard deviation ``noise`` centred evenly on a circle of radius
    4 (inside the playground's [-6, 6] square); class j is the j-th cluster."""
    n = _check(n, noise, "blobs")
    if int(k) != k or k < 1:
        raise ValueError(f"blobs: k must be a positive integer, got {k!r}")
    g = _rng(seed)
    label = np.concatenate([np.full(len(c), j) for j, c in enumerate(np.array_split(np.arange(n), k))])
    angle = 2 * np.pi * label / k + np.pi / 2
    x = 4 * np.cos(angle) + g.standard_normal(n) * noise
    y = 4 * np.sin(angle) + g.standard_normal(n) * noise
    return _finish(x, y, label, g, "classes")


def spirals(n=500, k=3, noise=0.0, seed=None):
    """``k`` interleaved arms of the playground's spiral (arm j turned by 2 pi j / k); class j is
    arm j. ``spirals(k=2)`` has the shape of ``spiral``, with spiral's +1 arm as class 0."""
    n = _check(n, noise, "spirals")
    if int(k) != k or k < 1:
        raise ValueError(f"spirals: k must be a positive integer, got {k!r}")
    g = _rng(seed)
    x, y, arm = _spiral_arms(g, n, int(k), noise)
    return _finish(x, y, arm, g, "classes")


CLASSIFICATION = {"circle": circle, "xor": xor, "gaussian": gaussian, "spiral": spiral,
                  "two_moons": two_moons, "blobs": blobs, "spirals": spirals}
REGRESSION = {"plane": plane, "multi_gaussian": multi_gaussian}
PLAYGROUND = {**CLASSIFICATION, **REGRESSION}


def make(name, **kwargs):
    """``make("circle", n=200, noise=0.1, seed=0)``: any dataset of this module by name."""
    try:
        fn = PLAYGROUND[name]
    except KeyError:
        raise ValueError(f"unknown dataset {name!r}; choose one of {sorted(PLAYGROUND)}") from None
    return fn(**kwargs)


def train_test_split(X, y, ratio=0.5, seed=None):
    """Shuffle and split into ``X_train, X_test, y_train, y_test`` with ``round(ratio * n)`` training
    samples (the playground's "ratio of training to test data", 50% by default)."""
    n = len(X)
    if len(y) != n:
        raise ValueError(f"train_test_split: X has {n} samples but y has {len(y)}")
    if not 0 < ratio < 1:
        raise ValueError(f"train_test_split: ratio must be between 0 and 1 (exclusive), got {ratio}")
    order = _rng(seed).permutation(n)
    cut = int(round(ratio * n))
    tr, te = order[:cut], order[cut:]
    take = lambda t, i: make_tensor(np.asarray(t.array if isinstance(t, Tensor) else t)[i])  # noqa: E731
    return take(X, tr), take(X, te), take(y, tr), take(y, te)
