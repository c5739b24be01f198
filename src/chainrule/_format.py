"""``repr`` of tensors in PyTorch's style: ``tensor([1.0000, 2.5000], requires_grad=True)``."""
import numpy as np

from . import _dtype

# dtypes PyTorch leaves out of the repr because they are what a literal would produce
_IMPLICIT = {np.dtype(np.int64), np.dtype(np.bool_)}


def _float_formatter(a):
    finite = a[np.isfinite(a)]
    if finite.size == 0:
        return lambda v: _special(v) or f"{v:.4f}"
    amax = np.abs(finite).max()
    nonzero = np.abs(finite[finite != 0])
    amin = nonzero.min() if nonzero.size else 0.0
    if np.all(finite == np.round(finite)) and amax < 1e8:
        return lambda v: _special(v) or f"{v:.0f}."
    if amax >= 1e8 or (amin and amin < 1e-4) or (amin and amax / amin > 1e3):
        return lambda v: _special(v) or f"{v:.4e}"
    return lambda v: _special(v) or f"{v:.4f}"


def _special(v):
    if np.isnan(v):
        return "nan"
    if np.isinf(v):
        return "inf" if v > 0 else "-inf"
    return None


def format_array(a, indent):
    if a.dtype.kind == "f":
        fmt = _float_formatter(a)
        return np.array2string(a, separator=", ", formatter={"float_kind": fmt},
                               prefix=" " * indent, threshold=1000, edgeitems=3,
                               max_line_width=80)
    if a.dtype.kind == "b":
        return np.array2string(a, separator=", ", formatter={"bool": lambda v: str(bool(v))},
                               prefix=" " * indent, threshold=1000, edgeitems=3, max_line_width=80)
    return np.array2string(a, separator=", ", prefix=" " * indent, threshold=1000, edgeitems=3,
                           max_line_width=80)


def format_tensor(t, prefix="tensor("):
    a = t.array
    body = format_array(a, len(prefix))
    extras = []
    if a.size == 0:
        extras.append(f"size={tuple(a.shape)}")
    if a.dtype not in _IMPLICIT and a.dtype != _dtype.default_float_np():
        extras.append(f"dtype=chainrule.{_dtype._FROM_NP[a.dtype].name}")
    if t.grad_fn is not None:
        extras.append(f"grad_fn=<{t.grad_fn.node_name()}>")
    elif t.requires_grad:
        extras.append("requires_grad=True")
    return prefix + body + "".join(", " + e for e in extras) + ")"
