"""Gradient clipping against exploding gradients (in place, on ``p.grad``)."""
import math

import numpy as np

from ...tensor import Tensor
from ...autograd.tensor_base import make_tensor


def _as_list(parameters):
    if isinstance(parameters, Tensor):
        return [parameters]
    return list(parameters)


def _grads(parameters):
    return [p.grad for p in _as_list(parameters) if p.grad is not None]


def _norm(arrays, norm_type):
    if not arrays:
        return 0.0
    if norm_type == math.inf:
        return max(float(np.abs(a).max()) if a.size else 0.0 for a in arrays)
    if norm_type == -math.inf:
        return min(float(np.abs(a).min()) if a.size else math.inf for a in arrays)
    if norm_type == 2:
        return math.sqrt(sum(float(np.dot(a.ravel(), a.ravel())) for a in arrays))
    if norm_type == 0:
        return float(sum(np.count_nonzero(a) for a in arrays))
    return sum(float((np.abs(a) ** norm_type).sum()) for a in arrays) ** (1.0 / norm_type)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The p-norm of all ``tensors`` together (the norm of their norms), as a 0-d tensor."""
    arrays = [t.array for t in _as_list(tensors)]
    norm_type = float(norm_type)
    total = _norm(arrays, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` "
                           f"is non-finite, so it cannot be clipped. To disable this error and "
                           f"scale the gradients by the non-finite norm anyway, set "
                           f"`error_if_nonfinite=False`")
    dtype = arrays[0].dtype if arrays else np.float32
    return make_tensor(np.asarray(total, dtype=dtype))


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale every gradient by min(1, max_norm / (total_norm + 1e-6))."""
    total = float(total_norm.item() if isinstance(total_norm, Tensor) else total_norm)
    coef = min(float(max_norm) / (total + 1e-6), 1.0)
    for g in _grads(parameters):
        g.array *= np.asarray(coef, dtype=g.array.dtype)


def clip_grad_norm_(parameters, max_norm, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """Rescale the gradients so that their joint ``norm_type``-norm is at most ``max_norm``;
    returns the norm before clipping (a 0-d tensor), as PyTorch."""
    parameters = _as_list(parameters)
    total = get_total_norm(_grads(parameters), norm_type, error_if_nonfinite)
    clip_grads_with_norm_(parameters, max_norm, total)
    return total


def clip_grad_value_(parameters, clip_value, foreach=None):
    """Clamp every gradient element into [-clip_value, clip_value]."""
    clip_value = float(clip_value)
    for g in _grads(parameters):
        np.clip(g.array, -clip_value, clip_value, out=g.array)
