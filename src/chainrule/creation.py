"""Functions that make new tensors (``cr.tensor``, ``cr.zeros``, ``cr.randn`` ...).

Each takes PyTorch's keyword arguments: ``dtype``, ``device``, ``requires_grad``, ``out``,
``layout`` (strided only), ``pin_memory`` (False only: there is no accelerator to pin for) and,
for random ones, ``generator``.
"""
import numbers

import numpy as np

from . import _dtype
from .backend import array_module, is_device_array, placed_like, to_device, to_host
from .device import check_available
from ._out import write_out
from .random import device_rng, rng
from .tensor import Tensor, _shape_args
from .autograd.tensor_base import make_tensor


class layout:
    """How a tensor's elements are laid out in memory (``torch.layout``): strided only."""

    __slots__ = ("name",)

    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return f"chainrule.{self.name}"


strided = layout("strided")


def _new(arr, requires_grad=False):
    t = make_tensor(arr)
    if requires_grad:
        t.requires_grad_(True)
    return t


def _check_device(dev, op="tensor"):
    check_available(dev, op)


def _check_options(op, device=None, layout=None, pin_memory=False):
    where = check_available(device, op)
    if layout is not None and layout is not strided:
        raise RuntimeError(f"{op}: layout {layout!r} is not supported; chainrule tensors are "
                           f"{strided!r}")
    if pin_memory:
        raise RuntimeError(f"{op}: pin_memory=True requires a CUDA or other accelerator backend; "
                           f"no pinned memory allocator is available on this system")
    return where


def _finish(op, arr, out=None, requires_grad=False, device=None, layout=None, pin_memory=False):
    """The checks and ``out=``/``requires_grad`` handling every factory shares."""
    where = _check_options(op, device, layout, pin_memory)
    if where.type != "cpu":
        arr = to_device(arr, where.type, where.index)
    if out is not None:
        if requires_grad:
            raise RuntimeError(f"{op}(): functions with out=... arguments don't support "
                               f"automatic differentiation")
        return write_out(op, out, arr)
    return _new(arr, requires_grad)


def _out_dtype(dtype, out, op):
    """The dtype a factory makes: ``dtype``, else ``out``'s, else None (the factory's default)."""
    if out is None:
        return dtype
    if dtype is not None and _dtype.to_numpy_dtype(dtype) != out.array.dtype:
        raise RuntimeError(f"{op}: dtype {_dtype.from_numpy_dtype(_dtype.to_numpy_dtype(dtype)).name}"
                           f" does not match dtype of out parameter ({out.dtype.name})")
    return out.dtype


def _float_dtype(dtype):
    return _dtype.to_numpy_dtype(dtype) or _dtype.default_float_np()


def _size(size, keyword, op):
    if keyword is not None:
        if size:
            raise TypeError(f"{op}: size given both positionally {size} and as size={keyword}")
        size = (keyword,)
    return _shape_args(size, op)


def tensor(data, dtype=None, device=None, requires_grad=False, pin_memory=False):
    """A new tensor holding a copy of ``data`` (a number, nested lists, a NumPy array or a tensor).

    Python floats become float32 (the default dtype), ints int64 and bools bool, as in PyTorch.
    """
    if device is None and isinstance(data, Tensor) and is_device_array(data.array):
        device = data.device
    where = _check_options("tensor", device, None, pin_memory)
    nd = _dtype.to_numpy_dtype(dtype)
    if isinstance(data, Tensor):
        arr = np.array(to_host(data.array), dtype=nd)
    elif isinstance(data, np.ndarray):
        arr = np.array(data, dtype=nd)
    else:
        arr = _from_python(data, nd)
    if arr.dtype.kind not in "biuf" and not _dtype.is_float_np(arr.dtype):
        raise TypeError(f"tensor: could not build a numeric tensor from {type(data).__name__} "
                        f"(NumPy made dtype {arr.dtype})")
    _dtype.from_numpy_dtype(arr.dtype)
    if where.type != "cpu":
        arr = to_device(arr, where.type, where.index)
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
        return to_host(data.array)
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
        return data if device is None else data.to(device)
    if isinstance(data, np.ndarray) and (dtype is None or _dtype.to_numpy_dtype(dtype) == data.dtype):
        if check_available(device, "as_tensor").type == "cpu":
            return from_numpy(data)
    return tensor(data, dtype=dtype, device=device)


def from_numpy(ndarray):
    """A tensor sharing memory with a NumPy array (changes to one show in the other)."""
    if not isinstance(ndarray, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray, got {type(ndarray).__name__}")
    _dtype.from_numpy_dtype(ndarray.dtype)
    return make_tensor(ndarray)


def _filled(name, make, size, kwargs, out, dtype, layout, device, requires_grad, pin_memory):
    """zeros/ones/empty: the shape from ``size`` (or ``size=``), torch's keywords, then ``make``."""
    shape = _size(size, kwargs.pop("size", None), name)
    _no_more(kwargs, name)
    nd = _float_dtype(_out_dtype(dtype, out, name))
    return _finish(name, make(shape, nd), out, requires_grad, device, layout, pin_memory)


def zeros(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, **kwargs):
    """A tensor of zeros: ``zeros(2, 3)``, ``zeros((2, 3))`` or ``zeros(size=(2, 3))``."""
    return _filled("zeros", np.zeros, size, kwargs, out, dtype, layout, device, requires_grad,
                   pin_memory)


def ones(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False, **kwargs):
    return _filled("ones", np.ones, size, kwargs, out, dtype, layout, device, requires_grad,
                   pin_memory)


def empty(*size, out=None, dtype=None, layout=None, device=None, requires_grad=False,
          pin_memory=False, memory_format=None, **kwargs):
    return _filled("empty", np.empty, size, kwargs, out, dtype, layout, device, requires_grad,
                   pin_memory)


def _no_more(kwargs, op):
    if kwargs:
        raise TypeError(f"{op}() got unexpected keyword arguments {sorted(kwargs)}")


def full(size, fill_value, out=None, dtype=None, layout=None, device=None, requires_grad=False,
         pin_memory=False):
    dtype = _out_dtype(dtype, out, "full")
    if dtype is None:
        if isinstance(fill_value, bool):
            nd = np.dtype(np.bool_)
        elif isinstance(fill_value, numbers.Integral):
            nd = np.dtype(np.int64)
        else:
            nd = _dtype.default_float_np()
    else:
        nd = _dtype.to_numpy_dtype(dtype)
    return _finish("full", np.full(_shape_args((size,), "full"), _raw_number(fill_value), nd), out,
                   requires_grad, device, layout, pin_memory)


def _like(op, input, make, dtype, layout, device, requires_grad, pin_memory=False):
    nd = _dtype.to_numpy_dtype(dtype) or input.array.dtype
    device = input.device if device is None else device      # PyTorch: the input's device
    return _finish(op, make(input.array.shape, nd), None, requires_grad, device, layout, pin_memory)


def zeros_like(input, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None, pin_memory=False):
    return _like("zeros_like", input, np.zeros, dtype, layout, device, requires_grad, pin_memory)


def ones_like(input, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None, pin_memory=False):
    return _like("ones_like", input, np.ones, dtype, layout, device, requires_grad, pin_memory)


def empty_like(input, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None, pin_memory=False):
    return _like("empty_like", input, np.empty, dtype, layout, device, requires_grad, pin_memory)


def full_like(input, fill_value, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None, pin_memory=False):
    value = _raw_number(fill_value)
    return _like("full_like", input, lambda shape, nd: np.full(shape, value, nd), dtype, layout,
                 device, requires_grad, pin_memory)


def arange(start=0, end=None, step=1, out=None, dtype=None, layout=None, device=None,
           requires_grad=False, pin_memory=False):
    """Values from ``start`` up to (not including) ``end``; ints give int64, floats float32."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError("arange: step must be nonzero")
    vals = [_raw_number(v) for v in (start, end, step)]
    dtype = _out_dtype(dtype, out, "arange")
    if dtype is None:
        nd = np.dtype(np.int64) if all(isinstance(v, numbers.Integral) for v in vals) \
            else _dtype.default_float_np()
    else:
        nd = _dtype.to_numpy_dtype(dtype)
    return _finish("arange", np.arange(*vals).astype(nd), out, requires_grad, device, layout,
                   pin_memory)


def _raw_number(v):
    return v.item() if isinstance(v, Tensor) else v


def linspace(start, end, steps, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    nd = _float_dtype(_out_dtype(dtype, out, "linspace"))
    arr = np.linspace(_raw_number(start), _raw_number(end), int(steps)).astype(nd)
    return _finish("linspace", arr, out, requires_grad, device, layout, pin_memory)


def logspace(start, end, steps, base=10.0, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    nd = _float_dtype(_out_dtype(dtype, out, "logspace"))
    arr = np.logspace(_raw_number(start), _raw_number(end), int(steps), base=base).astype(nd)
    return _finish("logspace", arr, out, requires_grad, device, layout, pin_memory)


def eye(n, m=None, out=None, dtype=None, layout=None, device=None, requires_grad=False,
        pin_memory=False):
    nd = _float_dtype(_out_dtype(dtype, out, "eye"))
    return _finish("eye", np.eye(n, m, dtype=nd), out, requires_grad, device, layout, pin_memory)


def _source(generator, device, op):
    """Where a random factory draws: ``generator``, else the generator of the device it makes
    the tensor on (CuPy's on a GPU, so nothing crosses the bus), else the default one."""
    where = check_available(device, op)
    if generator is None and where.type != "cpu":
        return device_rng(where.type, where.index)
    return rng(generator)


def rand(*size, generator=None, out=None, dtype=None, layout=None, device=None,
         requires_grad=False, pin_memory=False, **kwargs):
    """Uniform on [0, 1)."""
    shape = _size(size, kwargs.pop("size", None), "rand")
    _no_more(kwargs, "rand")
    nd = _float_dtype(_out_dtype(dtype, out, "rand"))
    arr = _source(generator, device, "rand").random(shape, dtype=np.float64).astype(nd)
    return _finish("rand", arr, out, requires_grad, device, layout, pin_memory)


def randn(*size, generator=None, out=None, dtype=None, layout=None, device=None,
          requires_grad=False, pin_memory=False, **kwargs):
    """Standard normal."""
    shape = _size(size, kwargs.pop("size", None), "randn")
    _no_more(kwargs, "randn")
    nd = _float_dtype(_out_dtype(dtype, out, "randn"))
    arr = _source(generator, device, "randn").standard_normal(shape).astype(nd)
    return _finish("randn", arr, out, requires_grad, device, layout, pin_memory)


def randint(low=0, high=None, size=None, generator=None, out=None, dtype=None, layout=None,
            device=None, requires_grad=False, pin_memory=False):
    """Integers uniform on [low, high): ``randint(high, size)`` or ``randint(low, high, size)``."""
    if size is None:
        if high is None:
            raise TypeError("randint: size is required, e.g. randint(0, 10, (3,))")
        low, high, size = 0, low, high
    if high is None:
        low, high = 0, low
    if high <= low:
        raise RuntimeError(f"randint: expected low < high, got low={low}, high={high}")
    nd = _dtype.to_numpy_dtype(_out_dtype(dtype, out, "randint")) or np.dtype(np.int64)
    arr = rng(generator).integers(low, high, _shape_args((size,), "randint")).astype(nd)
    return _finish("randint", arr, out, requires_grad, device, layout, pin_memory)


def randperm(n, generator=None, out=None, dtype=None, layout=None, device=None,
             requires_grad=False, pin_memory=False):
    nd = _dtype.to_numpy_dtype(_out_dtype(dtype, out, "randperm")) or np.dtype(np.int64)
    arr = rng(generator).permutation(int(n)).astype(nd)
    return _finish("randperm", arr, out, requires_grad, device, layout, pin_memory)


def rand_like(input, dtype=None, layout=None, device=None, requires_grad=False,
              memory_format=None, generator=None):
    device = input.device if device is None else device
    return rand(*input.shape, generator=generator, dtype=dtype or input.dtype, layout=layout,
                device=device, requires_grad=requires_grad)


def randn_like(input, dtype=None, layout=None, device=None, requires_grad=False,
               memory_format=None, generator=None):
    device = input.device if device is None else device
    return randn(*input.shape, generator=generator, dtype=dtype or input.dtype, layout=layout,
                 device=device, requires_grad=requires_grad)


def randint_like(input, low=0, high=None, dtype=None, layout=None, device=None,
                 requires_grad=False, memory_format=None, generator=None):
    device = input.device if device is None else device
    return randint(low, high, tuple(input.shape), generator=generator, dtype=dtype or input.dtype,
                   layout=layout, device=device, requires_grad=requires_grad)


def normal(mean=0.0, std=1.0, size=None, generator=None, out=None, dtype=None, layout=None,
           device=None, requires_grad=False, pin_memory=False):
    """Samples from N(mean, std^2): ``normal(0.0, 0.01, size=(2, 1))`` with numbers, or
    elementwise ``normal(mean_tensor, std_tensor)`` (a number for one of them is broadcast)."""
    m = mean.array if isinstance(mean, Tensor) else mean
    s = std.array if isinstance(std, Tensor) else std
    tensors = [x for x in (mean, std) if isinstance(x, Tensor)]
    if not tensors and size is None:
        raise TypeError("normal: with a number mean and std, size is required, e.g. "
                        "normal(0.0, 1.0, size=(2, 3)); or pass tensors for mean and std")
    if tensors and size is not None and tuple(size) != tuple(np.broadcast_shapes(
            np.shape(m), np.shape(s))):
        raise RuntimeError(f"normal: size {tuple(size)} given with tensor mean/std of shapes "
                           f"{np.shape(m)} and {np.shape(s)}")
    if np.any(np.asarray(s) < 0):
        raise RuntimeError(f"normal: expected std >= 0.0, got {np.min(s)}")
    shape = _shape_args((size,), "normal") if size is not None else \
        np.broadcast_shapes(np.shape(m), np.shape(s))
    if dtype is not None or out is not None:
        nd = _float_dtype(_out_dtype(dtype, out, "normal"))
    elif tensors:
        nd = np.result_type(*[t.array.dtype for t in tensors])
    else:
        nd = _dtype.default_float_np()
    arr = rng(generator).normal(m, s, shape).astype(nd)
    return _finish("normal", arr, out, requires_grad, device, layout, pin_memory)


def bernoulli(input, p=None, generator=None, out=None):
    probs = input.array if p is None else array_module(input.array).full(input.shape, p)
    arr = (rng(generator, like=input.array).random(probs.shape) < probs).astype(input.array.dtype)
    return make_tensor(arr) if out is None else write_out("bernoulli", out, arr)


def multinomial(input, num_samples, replacement=False, generator=None, out=None):
    """Draw category indices from (rows of) non-negative weights."""
    probs = np.asarray(to_host(input.array), dtype=np.float64)   # drawn on the host
    single = probs.ndim == 1
    probs = np.atleast_2d(probs)
    if (probs < 0).any() or not np.isfinite(probs).all():
        raise RuntimeError("multinomial: weights must be finite and non-negative")
    g = rng(generator)
    out_ = np.empty((probs.shape[0], num_samples), np.int64)
    for i, row in enumerate(probs):
        total = row.sum()
        if total <= 0:
            raise RuntimeError("multinomial: each row of weights must have a positive sum")
        out_[i] = g.choice(row.size, size=num_samples, replace=replacement, p=row / total)
    result = placed_like(out_[0] if single else out_, input.array)
    return make_tensor(result) if out is None else write_out("multinomial", out, result)
