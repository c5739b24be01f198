"""The ``cr.`` functions (``cr.exp(x)``, ``cr.cat([...])``, ``cr.where(c, a, b)`` ...).

Most are the tensor method of the same name; the ones that take several tensors live here.
"""
import builtins

import numpy as np

from .ops import elementwise
from .ops.shape import Cat, Pad, Stack
from .ops.base import normalize_dim
from ._out import check_out_grad as _check_out_grad, write_out as _write_out
from .tensor import Tensor, _bool_arg, _raw
from .autograd.tensor_base import make_tensor


def _as_tensor(x):
    if isinstance(x, Tensor):
        return x
    from .creation import tensor
    return tensor(x)


def _method_wrapper(name):
    method = getattr(Tensor, name)

    def fn(input, *args, out=None, **kwargs):
        if out is None:
            return method(_as_tensor(input), *args, **kwargs)
        return _into_out(name, out, method, _as_tensor(input), *args, **kwargs)

    fn.__name__ = fn.__qualname__ = name
    fn.__doc__ = f"``cr.{name}(input, ...)`` is ``input.{name}(...)``.\n\n{method.__doc__ or ''}"
    return fn


_METHODS = """
add sub subtract mul multiply div divide true_divide pow remainder neg negative
exp log log1p expm1 log2 log10 sqrt rsqrt abs absolute sign sin cos tanh sigmoid relu reciprocal
square clamp clip clamp_min clamp_max maximum minimum floor ceil round trunc
sum mean var std max min amax amin logsumexp prod norm cumsum softmax log_softmax
argmax argmin all any count_nonzero topk sort argsort
reshape flatten unflatten squeeze unsqueeze permute transpose swapaxes t broadcast_to
flip roll split chunk unbind masked_fill gather scatter_add index_select
matmul mm bmm dot mv outer eq ne lt le gt ge greater less equal allclose isnan isinf isfinite
logical_not logical_and logical_or numel clone detach
""".split()

_METHODS += """
sinh cosh asinh acosh atanh arcsinh arccosh arctanh tril triu
""".split()

# These shadow builtins (any, all, sum, max, abs, ...) in this module: use builtins.any here.
for _name in _METHODS:
    globals()[_name] = _method_wrapper(_name)


# The matrix products write only into an ``out`` of the result's own dtype (PyTorch's rule).
_EXACT_OUT_DTYPE = {"matmul", "mm", "bmm", "mv", "dot"}


def _into_out(name, out, fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` written into ``out`` (a tensor, or a tuple for several results),
    as PyTorch's ``out=``: not recorded, so no input may require grad."""
    _check_out_grad(name, out if isinstance(out, Tensor) else out[0], *args,
                   *[v for v in kwargs.values() if isinstance(v, Tensor)])
    result = fn(*args, **kwargs)
    if name in _EXACT_OUT_DTYPE and out.array.dtype != result.array.dtype:
        raise RuntimeError(f"{name}(): expected out tensor to have dtype {result.dtype.name}, but "
                           f"got {out.dtype.name} instead")
    if isinstance(result, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(result):
            raise TypeError(f"{name}(): out must be a tuple of {len(result)} tensors")
        written = [_write_out(name, o, r) for o, r in zip(out, result)]
        return type(result)(*written) if hasattr(result, "_fields") else tuple(written)
    return _write_out(name, out, result)


def cat(tensors, dim=0, *, out=None, axis=None):
    """Join tensors along an existing dimension; all other dimensions must match."""
    dim = dim if axis is None else axis
    if out is not None:
        return _into_out("cat", out, cat, tensors, dim)
    tensors = [_as_tensor(t) for t in tensors]
    if not tensors:
        raise RuntimeError("cat: expected a non-empty list of tensors")
    # Like PyTorch, ignore legacy empty 1-D tensors.
    kept = [t for t in tensors if not (t.ndim == 1 and t.array.shape[0] == 0)] or tensors[:1]
    ref = kept[0]
    d = normalize_dim(dim, ref.ndim, "cat")
    for t in kept[1:]:
        if t.ndim != ref.ndim or builtins.any(a != b for i, (a, b) in enumerate(zip(t.shape, ref.shape)) if i != d):
            raise RuntimeError(f"cat: sizes of tensors must match except in dimension {d}; got "
                               f"shapes {[tuple(x.shape) for x in kept]}")
    if len(kept) == 1:
        return kept[0]
    return Cat.apply(d, *kept)


concat = concatenate = cat


def stack(tensors, dim=0, *, out=None, axis=None):
    """Join tensors of equal shape along a new dimension."""
    dim = dim if axis is None else axis
    if out is not None:
        return _into_out("stack", out, stack, tensors, dim)
    tensors = [_as_tensor(t) for t in tensors]
    if not tensors:
        raise RuntimeError("stack: expected a non-empty list of tensors")
    shapes = {tuple(t.shape) for t in tensors}
    if len(shapes) > 1:
        raise RuntimeError(f"stack: expects each tensor to be equal size, got shapes "
                           f"{[tuple(t.shape) for t in tensors]}")
    d = normalize_dim(dim, tensors[0].ndim + 1, "stack")
    return Stack.apply(d, *tensors)


def hstack(tensors):
    tensors = [_as_tensor(t) for t in tensors]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    return cat([t if t.ndim > 1 else t.reshape(1, -1) for t in map(_as_tensor, tensors)], 0)


def where(condition, input=None, other=None):
    """Elements of ``input`` where ``condition`` holds, else of ``other``; with only a condition,
    the indices where it holds (as ``nonzero(as_tuple=True)``)."""
    cond = _bool_arg(condition, "where")
    if input is None and other is None:
        return tuple(make_tensor(i.astype(np.int64)) for i in np.nonzero(cond))
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        input = _as_tensor(input)
    try:
        np.broadcast_shapes(cond.shape, np.shape(_raw(input)), np.shape(_raw(other)))
    except ValueError:
        raise RuntimeError(f"where: condition {cond.shape}, input {np.shape(_raw(input))} and "
                           f"other {np.shape(_raw(other))} do not broadcast") from None
    return elementwise.Where.apply(cond, input, other)


def nonzero(input, as_tuple=False):
    idx = np.nonzero(_raw(input))
    if as_tuple:
        return tuple(make_tensor(i.astype(np.int64)) for i in idx)
    return make_tensor(np.stack(idx, axis=1).astype(np.int64))


def pad(input, pad, mode="constant", value=None):
    """Pad the last ``len(pad)//2`` dimensions: ``pad = (left, right, top, bottom, ...)`` starting
    from the last dimension, as ``torch.nn.functional.pad``. Negative padding crops."""
    if len(pad) % 2:
        raise ValueError(f"pad: padding length must be even, got {len(pad)}: {pad}")
    n = len(pad) // 2
    if n > input.ndim:
        raise ValueError(f"pad: {len(pad)} values pad {n} dimensions but the input has "
                         f"{input.ndim} (shape {tuple(input.shape)})")
    widths = [(0, 0)] * input.ndim
    for i in range(n):
        widths[input.ndim - 1 - i] = (int(pad[2 * i]), int(pad[2 * i + 1]))
    if mode != "constant" and builtins.any(lo < 0 or hi < 0 for lo, hi in widths):
        raise ValueError(f"pad: negative padding is only supported in constant mode, got {pad}")
    return Pad.apply(input, tuple(widths), mode, 0 if value is None else value)


def broadcast_tensors(*tensors):
    shape = np.broadcast_shapes(*[tuple(t.shape) for t in tensors])
    return tuple(t.broadcast_to(shape) for t in tensors)


def broadcast_shapes(*shapes):
    from .tensor import Size
    return Size(np.broadcast_shapes(*shapes))


def is_tensor(obj):
    return isinstance(obj, Tensor)


def is_floating_point(t):
    return t.is_floating_point()


def einsum(equation, *operands):
    """Einstein summation (``cr.einsum("bij,bjk->bik", a, b)``); explicit ``->`` output, letters
    only (no ``...``), each letter at most once per operand."""
    if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
        operands = tuple(operands[0])
    from .ops.linalg import Einsum
    return Einsum.apply(equation, *operands)


# tensor methods that scripts also call as cr.name(input, ...)
for _name in ("narrow", "diag", "unique"):
    globals()[_name] = _method_wrapper(_name)


def meshgrid(*tensors, indexing="ij"):
    """Coordinate grids from 1-D tensors: with ``indexing="ij"`` output k varies along
    dimension k; with ``"xy"`` the first two dimensions swap (NumPy's and MATLAB's default).
    Each output is an expanded view of its input, so gradients flow back to it."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    if indexing not in ("ij", "xy"):
        raise RuntimeError(f"meshgrid: indexing must be 'ij' or 'xy', got {indexing!r}")
    tensors = [_as_tensor(t) for t in tensors]
    if not tensors:
        raise RuntimeError("meshgrid: expects a non-empty list of tensors")
    for t in tensors:
        if t.ndim > 1:
            raise RuntimeError(f"meshgrid: expected 0-D or 1-D tensors, got shape {tuple(t.shape)}")
    if indexing == "xy" and len(tensors) >= 2:
        tensors[0], tensors[1] = tensors[1], tensors[0]
    flat = [t.reshape(-1) for t in tensors]
    shape = tuple(t.shape[0] for t in flat)
    grids = []
    for k, t in enumerate(flat):
        view = [1] * len(flat)
        view[k] = shape[k]
        grids.append(t.reshape(view).broadcast_to(shape))
    if indexing == "xy" and len(grids) >= 2:
        grids[0], grids[1] = grids[1], grids[0]
    return tuple(grids)
