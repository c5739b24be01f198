"""``repr`` of tensors in PyTorch's style: ``tensor([1.0000, 2.5000], requires_grad=True)``."""
import numpy as np

from .backend import is_device_array, to_host

from . import _dtype

# dtypes PyTorch leaves out of the repr because they are what a literal would produce
_IMPLICIT = {np.dtype(np.int64), np.dtype(np.bool_)}


_EDGE, _THRESHOLD = 3, 1000


def _float_formatter(a):
    """PyTorch's rules: integer-valued floats print as ``1.``, wide ranges in scientific form,
    otherwise 4 decimals. Returns the formatter and the width every element is padded to, the
    widest non-zero finite value's (so that columns align)."""
    finite = a[np.isfinite(a)]
    values = np.unique(finite[finite != 0]).astype(np.float64)
    if values.size == 0:
        return (lambda v: _special(v) or f"{v:.0f}."), 1
    amax, amin = np.abs(values).max(), np.abs(values).min()
    wide = amax / amin > 1000.0 or amax > 1.0e8
    if np.all(values == np.ceil(values)) and not wide:
        return (lambda v: _special(v) or f"{v:.0f}."), max(len(f"{v:.0f}.") for v in values)
    fmt = "{:.4e}" if wide or amin < 1.0e-4 else "{:.4f}"
    return (lambda v: _special(v) or fmt.format(v)), max(len(fmt.format(v)) for v in values)


def _special(v):
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return None


def _summarized(a):
    """The elements a summarised print shows (the first and last few along every axis)."""
    if a.size <= _THRESHOLD:
        return a
    for axis, n in enumerate(a.shape):
        if n > 2 * _EDGE:
            a = np.concatenate([a.take(range(_EDGE), axis), a.take(range(n - _EDGE, n), axis)],
                               axis)
    return a


def format_array(a, indent):
    # PyTorch marks elided elements within a row as " ..." (elided rows are plain "...").
    return _format_array(a, indent).replace(", ..., ", ",  ..., ")


def _format_array(a, indent):
    opts = dict(separator=", ", prefix=" " * indent, threshold=_THRESHOLD, edgeitems=_EDGE,
                max_line_width=80)
    if a.dtype in _dtype.EXTRA_FLOAT_NP:
        a = a.astype(np.float32)   # bfloat16 prints its values, which float32 holds exactly
    shown = _summarized(a)
    if a.dtype.kind == "f":
        fmt, width = _float_formatter(shown)
        return np.array2string(a, formatter={"float_kind": lambda v: fmt(v).rjust(width)}, **opts)
    if a.dtype.kind == "b":
        width = 5 if (~shown).any() else 4
        return np.array2string(a, formatter={"bool": lambda v: str(bool(v)).rjust(width)}, **opts)
    width = max((len(str(v)) for v in (shown.min(), shown.max())), default=1) if a.size else 1
    return np.array2string(a, formatter={"int": lambda v: str(v).rjust(width)}, **opts)


def format_tensor(t, prefix="tensor("):
    a = to_host(t.array)
    body = format_array(a, len(prefix))
    extras = []
    if is_device_array(t.array):
        extras.append(f"device='{t.device}'")
    if a.size == 0:
        extras.append(f"size={tuple(a.shape)}")
    if a.dtype not in _IMPLICIT and a.dtype != _dtype.default_float_np():
        extras.append(f"dtype=chainrule.{_dtype._FROM_NP[a.dtype].name}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.node_name()}>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    return prefix + body + "".join(", " + e for e in extras) + ")"
