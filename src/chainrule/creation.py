"""Functions that make new tensors (``cr.tensor``, ``cr.zeros``, ``cr.randn`` ...)."""
import numbers

import numpy as np

from . import _dtype
from .device import device
from .random import rng
from .tensor import Tensor, _shape_args
from .autograd.tensor_base import make_tensor


def _new(arr, requires_grad=False):
    t = make_tensor(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _check_device(dev):
    if dev is not None:
        device(dev)


def _float_dtype(dtype):
    return _dtype.to_numpy_dtype(dtype) or _dtype.default_float_np()


def tensor(data, dtype=None, device=None, requires_grad=False):
    """A new tensor holding a copy of ``data`` (a number, nested lists, a NumPy array or a tensor).

    Python floats become float32 (the default dtype), ints int64 and bools bool, as in PyTorch.
    """
    _check_device(device)
    nd = _dtype.to_numpy_dtype(dtype)
    if isinstance(data, Tensor):
        arr = np.array(data.array, dtype=nd)
    elif isinstance(data, np.ndarray):
        arr = np.array(data, dtype=nd)
    else:
        arr = _from_python(data, nd)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"tensor: could not build a numeric tensor from {type(data).__name__} "
                        f"(NumPy made dtype {arr.dtype})")
    _dtype.from_numpy_dtype(arr.dtype)
    return _new(arr, requires_grad)


def _from_python(data, nd):
    if isinstance(data, (list, tuple)) and any(isinstance(x, Tensor) for x in _flat(data)):
        data = _unwrap(data)
    try:
        arr = np.array(data, dtype=nd)
    except ValueError as e:
        raise ValueError(f"tensor: nested sequences must be rectangular ({e})") from None
    if nd is None:
        if arr.dtype == np.float64 and not _holds_float64(data):
            arr = arr.astype(_dtype.default_float_np())
        elif arr.dtype.kind in "iu":
            arr = arr.astype(np.int64)
        elif arr.dtype == np.object_ and arr.size == 0:
            arr = arr.astype(_dtype.default_float_np())
    return arr


def _flat(data):
    stack = [data]
    while stack:
        x = stack.pop()
        if isinstance(x, (list, tuple)):
            stack.extend(x)
        else:
            yield x


def _unwrap(data):
    if isinstance(data, Tensor):
        return data.array
    if isinstance(data, (list, tuple)):
        return [_unwrap(x) for x in data]
    return data


def _holds_float64(data):
    # A float64 NumPy scalar or array inside a list keeps float64; Python floats don't.
    for x in _flat(data):
        if isinstance(x, (np.floating, np.ndarray)) and np.asarray(x).dtype == np.float64:
            return True
    return False


def as_tensor(data, dtype=None, device=None):
    """Like ``tensor`` but shares memory with a NumPy array or tensor when the dtype fits."""
    if isinstance(data, Tensor) and (dtype is None or _dtype.to_numpy_dtype(dtype) == data.array.dtype):
        return data
    if isinstance(data, np.ndarray) and (dtype is None or _dtype.to_numpy_dtype(dtype) == data.dtype):
        return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(ndarray):
    """A tensor sharing memory with a NumPy array (changes to one show in the other)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray, got {type(ndarray).__name__}")
    _dtype.from_numpy_dtype(ndarray.dtype)
    return make_tensor(ndarray)


def zeros(*size, dtype=None, device=None, requires_grad=False):
    _check_device(device)
    return _new(np.zeros(_shape_args(size, "zeros"), _float_dtype(dtype)), requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False):
    _check_device(device)
    return _new(np.ones(_shape_args(size, "ones"), _float_dtype(dtype)), requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False):
    _check_device(device)
    return _new(np.empty(_shape_args(size, "empty"), _float_dtype(dtype)), requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False):
    _check_device(device)
    if dtype is None:
        if isinstance(fill_value, bool):
            nd = np.dtype(np.bool_)
        elif isinstance(fill_value, numbers.Integral):
            nd = np.dtype(np.int64)
        else:
            nd = _dtype.default_float_np()
    else:
        nd = _dtype.to_numpy_dtype(dtype)
    return _new(np.full(_shape_args((size,), "full"), fill_value, nd), requires_grad)


def zeros_like(input, dtype=None, requires_grad=False):
    return _new(np.zeros_like(input.array, dtype=_dtype.to_numpy_dtype(dtype)), requires_grad)


def ones_like(input, dtype=None, requires_grad=False):
    return _new(np.ones_like(input.array, dtype=_dtype.to_numpy_dtype(dtype)), requires_grad)


def empty_like(input, dtype=None, requires_grad=False):
    return _new(np.empty_like(input.array, dtype=_dtype.to_numpy_dtype(dtype)), requires_grad)


def full_like(input, fill_value, dtype=None, requires_grad=False):
    return _new(np.full_like(input.array, fill_value, dtype=_dtype.to_numpy_dtype(dtype)),
                requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False):
    """Values from ``start`` up to (not including) ``end``; ints give int64, floats float32."""
    _check_device(device)
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    vals = [_raw_number(v) for v in (start, end, step)]
    if dtype is None:
        nd = np.dtype(np.int64) if all(isinstance(v, numbers.Integral) for v in vals) \
            else _dtype.default_float_np()
    else:
        nd = _dtype.to_numpy_dtype(dtype)
    return _new(np.arange(*vals).astype(nd), requires_grad)


def _raw_number(v):
    return v.item() if isinstance(v, Tensor) else v


def linspace(start, end, steps, dtype=None, device=None, requires_grad=False):
    _check_device(device)
    return _new(np.linspace(_raw_number(start), _raw_number(end), int(steps)).astype(_float_dtype(dtype)),
                requires_grad)


def logspace(start, end, steps, base=10.0, dtype=None, requires_grad=False):
    return _new(np.logspace(start, end, int(steps), base=base).astype(_float_dtype(dtype)),
                requires_grad)


def eye(n, m=None, dtype=None, device=None, requires_grad=False):
    _check_device(device)
    return _new(np.eye(n, m, dtype=_float_dtype(dtype)), requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Uniform on [0, 1)."""
    _check_device(device)
    nd = _float_dtype(dtype)
    return _new(rng(generator).random(_shape_args(size, "rand"), dtype=np.float64).astype(nd),
                requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False):
    """Standard normal."""
    _check_device(device)
    nd = _float_dtype(dtype)
    return _new(rng(generator).standard_normal(_shape_args(size, "randn")).astype(nd), requires_grad)


def randint(low=0, high=None, size=None, generator=None, dtype=None, device=None,
            requires_grad=False):
    """Integers uniform on [low, high): ``randint(high, size)`` or ``randint(low, high, size)``."""
    _check_device(device)
    if size is None:
        if high is None:
            raise TypeError("randint: size is required, e.g. randint(0, 10, (3,))")
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if high <= low:
        raise RuntimeError(f"randint: expected low < high, got low={low}, high={high}")
    nd = _dtype.to_numpy_dtype(dtype) or np.dtype(np.int64)
    return _new(rng(generator).integers(low, high, _shape_args((size,), "randint")).astype(nd),
                requires_grad)


def randperm(n, generator=None, dtype=None, device=None):
    nd = _dtype.to_numpy_dtype(dtype) or np.dtype(np.int64)
    return make_tensor(rng(generator).permutation(int(n)).astype(nd))


def rand_like(input, dtype=None, requires_grad=False):
    return rand(*input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randn_like(input, dtype=None, requires_grad=False):
    return randn(*input.shape, dtype=dtype or input.dtype, requires_grad=requires_grad)


def randint_like(input, low=0, high=None, dtype=None):
    return randint(low, high, tuple(input.shape), dtype=dtype or input.dtype)


def normal(mean, std, size=None, generator=None):
    """Samples from N(mean, std^2); ``mean``/``std`` may be numbers (with ``size``) or tensors."""
    m = mean.array if isinstance(mean, Tensor) else mean
    s = std.array if isinstance(std, Tensor) else std
    shape = size if size is not None else np.broadcast_shapes(np.shape(m), np.shape(s))
    dt = mean.array.dtype if isinstance(mean, Tensor) else _dtype.default_float_np()
    return make_tensor(rng(generator).normal(m, s, shape).astype(dt))


def bernoulli(input, p=None, generator=None):
    probs = input.array if p is None else np.full(input.shape, p)
    return make_tensor((rng(generator).random(probs.shape) < probs).astype(input.array.dtype))


def multinomial(input, num_samples, replacement=False, generator=None):
    """Draw category indices from (rows of) non-negative weights."""
    probs = np.asarray(input.array, dtype=np.float64)
    single = probs.ndim == 1
    probs = np.atleast_2d(probs)
    if (probs < 0).any() or not np.isfinite(probs).all():
        raise RuntimeError("multinomial: weights must be finite and non-negative")
    g = rng(generator)
    out = np.empty((probs.shape[0], num_samples), np.int64)
    for i, row in enumerate(probs):
        total = row.sum()
        if total <= 0:
            raise RuntimeError("multinomial: each row of weights must have a positive sum")
        out[i] = g.choice(row.size, size=num_samples, replace=replacement, p=row / total)
    return make_tensor(out[0] if single else out)
