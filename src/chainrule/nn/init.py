"""Weight initialisation (``torch.nn.init``): PyTorch's formulas, drawn from chainrule's seeded
generator (``cr.manual_seed``). Every function fills its tensor in place, outside the graph,
and returns it.

Glorot/Xavier keeps the variance of activations and gradients equal across a layer for tanh-like
units: Var(W) = 2 / (fan_in + fan_out). He/Kaiming does the same for ReLU-like units, which zero
half their inputs: Var(W) = gain^2 / fan, with gain = sqrt(2) for ReLU.
"""
import math

import numpy as np

from ..backend import placed_like

from ..autograd.tensor_base import increment_version
from ..random import rng


def calculate_gain(nonlinearity, param=None):
    """The recommended gain for a nonlinearity: 1 (linear, conv, sigmoid), 5/3 (tanh),
    sqrt(2) (relu), sqrt(2 / (1 + slope^2)) (leaky_relu, slope ``param`` default 0.01), 3/4 (selu)."""
    linear_fns = ["linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                  "conv_transpose2d", "conv_transpose3d"]
    if nonlinearity in linear_fns or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        if param is None:
            slope = 0.01
        elif not isinstance(param, bool) and isinstance(param, (int, float)):
            slope = param
        else:
            raise ValueError(f"negative_slope {param} not a valid number")
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"Unsupported nonlinearity {nonlinearity}")


def _calculate_fan_in_and_fan_out(tensor):
    shape = tensor.shape
    if len(shape) < 2:
        raise ValueError(f"Fan in and fan out can not be computed for tensor with fewer than 2 "
                         f"dimensions (got shape {tuple(shape)})")
    receptive = 1
    for s in shape[2:]:
        receptive *= s
    return shape[1] * receptive, shape[0] * receptive


def _calculate_correct_fan(tensor, mode):
    mode = mode.lower()
    if mode not in ("fan_in", "fan_out"):
        raise ValueError(f"Mode {mode} not supported, please use one of fan_in, fan_out")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _fill(tensor, values):
    _copy_into(tensor.array, values)
    increment_version(tensor)
    return tensor


def _copy_into(arr, values):
    np.copyto(arr, placed_like(values, arr), casting="unsafe")   # drawn on the host, once


# Draws for a float32 tensor come in float64 (the generator's stream): drawn whole, a big
# weight's draw took twice the weight's own memory at once (W6's peak was PyTorch's + 10%).
_DRAW_CHUNK = 1 << 15


def _fill_drawn(tensor, draw):
    """Fill ``tensor`` with ``draw(n)`` (n values of the generator's stream) in chunks: the
    values are those of one draw of the whole size, the stream being consumed in order."""
    arr = tensor.array
    size = arr.size
    if size <= _DRAW_CHUNK or not arr.flags.c_contiguous:
        return _fill(tensor, draw(arr.shape))
    flat = arr.reshape(-1)
    for start in range(0, size, _DRAW_CHUNK):
        part = flat[start:start + _DRAW_CHUNK]
        _copy_into(part, draw(part.size))
    increment_version(tensor)
    return tensor


def uniform_(tensor, a=0.0, b=1.0, generator=None):
    """Fill with U(a, b)."""
    g = rng(generator)
    return _fill_drawn(tensor, lambda size: g.uniform(a, b, size))


def normal_(tensor, mean=0.0, std=1.0, generator=None):
    """Fill with N(mean, std^2)."""
    g = rng(generator)
    return _fill_drawn(tensor, lambda size: g.normal(mean, std, size))


def trunc_normal_(tensor, mean=0.0, std=1.0, a=-2.0, b=2.0, generator=None):
    """Fill with N(mean, std^2) truncated to [a, b] (bounds in the tensor's units, as PyTorch).
    Drawn by rejection: values outside [a, b] are drawn again."""
    if a >= b:
        raise ValueError(f"trunc_normal_: lower bound a={a} must be below upper bound b={b}")
    g = rng(generator)
    out = g.normal(mean, std, tensor.array.shape)
    for _ in range(1000):
        bad = (out < a) | (out > b)
        n = int(bad.sum())
        if not n:
            break
        out[bad] = g.normal(mean, std, n)
    return _fill(tensor, np.clip(out, a, b))


def constant_(tensor, val):
    return _fill(tensor, val)


def ones_(tensor):
    return _fill(tensor, 1)


def zeros_(tensor):
    return _fill(tensor, 0)


def eye_(tensor):
    """Fill a 2-D tensor with the identity (ones on the diagonal)."""
    if tensor.ndim != 2:
        raise ValueError(f"Only tensors with 2 dimensions are supported (got shape "
                         f"{tuple(tensor.shape)})")
    return _fill(tensor, np.eye(*tensor.array.shape))


def dirac_(tensor, groups=1):
    """Fill a 3-, 4- or 5-D convolution weight so the convolution is the identity."""
    d = tensor.ndim
    if d not in (3, 4, 5):
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    sizes = tensor.array.shape
    if sizes[0] % groups:
        raise ValueError("dim 0 must be divisible by groups")
    out_per_group = sizes[0] // groups
    min_dim = min(out_per_group, sizes[1])
    w = np.zeros(sizes)
    centre = tuple(s // 2 for s in sizes[2:])
    for g in range(groups):
        for i in range(min_dim):
            w[(g * out_per_group + i, i) + centre] = 1
    return _fill(tensor, w)


def xavier_uniform_(tensor, gain=1.0, generator=None):
    """Glorot uniform: U(-a, a) with a = gain sqrt(6 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    a = math.sqrt(3.0) * std
    return uniform_(tensor, -a, a, generator)


def xavier_normal_(tensor, gain=1.0, generator=None):
    """Glorot normal: N(0, std^2) with std = gain sqrt(2 / (fan_in + fan_out))."""
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    return normal_(tensor, 0.0, std, generator)


def kaiming_uniform_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He uniform: U(-bound, bound) with bound = gain sqrt(3 / fan), gain =
    calculate_gain(nonlinearity, a)."""
    if 0 in tensor.array.shape:
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    bound = math.sqrt(3.0) * std
    return uniform_(tensor, -bound, bound, generator)


def _default_layer_init_(weight, bias=None):
    """PyTorch's default for Linear and convolution layers: W ~ Kaiming-uniform with a = sqrt(5),
    that is U(-1/sqrt(fan_in), 1/sqrt(fan_in)), and b ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))."""
    kaiming_uniform_(weight, a=math.sqrt(5))
    if bias is not None:
        fan_in, _ = _calculate_fan_in_and_fan_out(weight)
        bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
        uniform_(bias, -bound, bound)


def kaiming_normal_(tensor, a=0, mode="fan_in", nonlinearity="leaky_relu", generator=None):
    """He normal: N(0, std^2) with std = gain / sqrt(fan)."""
    if 0 in tensor.array.shape:
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    std = calculate_gain(nonlinearity, a) / math.sqrt(fan)
    return normal_(tensor, 0.0, std, generator)


def orthogonal_(tensor, gain=1, generator=None):
    """Fill with a (semi-)orthogonal matrix (Saxe et al. 2013): the Q of a QR decomposition of a
    Gaussian matrix, signs fixed by diag(R) so the draw is uniform; trailing dims flattened."""
    if tensor.ndim < 2:
        raise ValueError(f"Only tensors with 2 or more dimensions are supported (got shape "
                         f"{tuple(tensor.shape)})")
    if tensor.array.size == 0:
        return tensor
    rows = tensor.array.shape[0]
    cols = tensor.array.size // rows
    flat = rng(generator).normal(0.0, 1.0, (rows, cols))
    if rows < cols:
        flat = flat.T
    q, r = np.linalg.qr(flat)
    q = q * np.sign(np.diag(r))
    if rows < cols:
        q = q.T
    return _fill(tensor, gain * q.reshape(tensor.array.shape))


def sparse_(tensor, sparsity, std=0.01, generator=None):
    """Fill a 2-D tensor as a sparse matrix: each column has ``ceil(sparsity * rows)`` zeros, the
    other entries drawn from N(0, std^2)."""
    if tensor.ndim != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    rows, cols = tensor.array.shape
    g = rng(generator)
    w = g.normal(0, std, (rows, cols))
    zeros = int(math.ceil(sparsity * rows))
    for c in range(cols):
        w[g.permutation(rows)[:zeros], c] = 0
    return _fill(tensor, w)
