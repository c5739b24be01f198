"""Gradient clipping against exploding gradients (in place, on ``p.grad``)."""
import math

import numpy as np

from ...backend import array_module, is_device_array
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


def _norm_on_device(arrays, norm_type):
    """``_norm`` as a 0-d array on the arrays' device, so that clipping never waits for the GPU."""
    xp = array_module(arrays[0])
    arrays = [a for a in arrays if a.size]
    if not arrays:
        return xp.zeros((), np.float32)
    if norm_type == math.inf:
        return xp.stack([xp.abs(a).max() for a in arrays]).max()
    if norm_type == -math.inf:
        return xp.stack([xp.abs(a).min() for a in arrays]).min()
    if norm_type == 2:
        return xp.sqrt(sum(xp.vdot(a.ravel(), a.ravel()) for a in arrays))
    if norm_type == 0:
        return sum(xp.count_nonzero(a) for a in arrays).astype(arrays[0].dtype)
    return sum((xp.abs(a) ** norm_type).sum() for a in arrays) ** (1.0 / norm_type)


def get_total_norm(tensors, norm_type=2.0, error_if_nonfinite=False, foreach=None):
    """The p-norm of all ``tensors`` together (the norm of their norms), as a 0-d tensor."""
    arrays = [t.array for t in _as_list(tensors)]
    norm_type = float(norm_type)
    if arrays and is_device_array(arrays[0]):
        total = _norm_on_device(arrays, norm_type).astype(arrays[0].dtype)
        if error_if_nonfinite and not bool(array_module(total).isfinite(total)):
            _raise_nonfinite(norm_type)
        return make_tensor(total)
    total = _norm(arrays, norm_type)
    if error_if_nonfinite and not math.isfinite(total):
        _raise_nonfinite(norm_type)
    dtype = arrays[0].dtype if arrays else np.float32
    return make_tensor(np.asarray(total, dtype=dtype))


def _raise_nonfinite(norm_type):
    raise RuntimeError(f"The total norm of order {norm_type} for gradients from `parameters` "
                       f"is non-finite, so it cannot be clipped. To disable this error and "
                       f"scale the gradients by the non-finite norm anyway, set "
                       f"`error_if_nonfinite=False`")


def clip_grads_with_norm_(parameters, max_norm, total_norm, foreach=None):
    """Scale every gradient by min(1, max_norm / (total_norm + 1e-6))."""
    grads = _grads(parameters)
    if grads and is_device_array(grads[0].array):
        # on the device: min(1, ...) as an array op, never a host number (PyTorch's clamped coef)
        total = total_norm.array if isinstance(total_norm, Tensor) else total_norm
        coef = array_module(grads[0].array).minimum(float(max_norm) / (total + 1e-6), 1.0)
        for g in grads:
            g.array *= coef.astype(g.array.dtype)
        return
    total = float(total_norm.item() if isinstance(total_norm, Tensor) else total_norm)
    coef = min(float(max_norm) / (total + 1e-6), 1.0)
    for g in grads:
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
