"""Reverse-mode automatic differentiation: Function, the backward engine, grad mode, gradcheck."""
import numpy as np

from ..backend import owned_copy

from .anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .engine import root_gradients, run_backward
from .function import Function, once_differentiable
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck
from .tensor_base import TensorBase, make_tensor


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned as a tuple; ``.grad`` of the
    inputs is left untouched (``torch.autograd.grad``)."""
    if create_graph:
        raise RuntimeError("autograd.grad(create_graph=True): chainrule computes gradients on raw "
                           "arrays, so higher-order derivatives are not available")
    outputs = _as_list(outputs)
    inputs = _as_list(inputs)
    grad_outputs = [None] * len(outputs) if grad_outputs is None else _as_list(grad_outputs)
    seeds = root_gradients(outputs, grad_outputs, "grad_outputs", "autograd.grad")
    for t in inputs:
        if not t.requires_grad:
            raise RuntimeError("autograd.grad: one of the inputs does not require grad")
    res = run_backward(outputs, seeds, retain_graph=bool(retain_graph), capture=inputs,
                       accumulate=False)
    out = []
    for t, g in zip(inputs, res):
        if g is None:
            if not allow_unused:
                raise RuntimeError("autograd.grad: one of the differentiated tensors appears to "
                                   "not have been used in the graph; pass allow_unused=True if "
                                   "this is intended")
            out.append(None)
        else:
            out.append(make_tensor(owned_copy(g, t.array.dtype)))
    return tuple(out)


def backward(tensors, grad_tensors=None, retain_graph=None):
    """``torch.autograd.backward``: backward from several tensors at once."""
    tensors = _as_list(tensors)
    grad_tensors = [None] * len(tensors) if grad_tensors is None else _as_list(grad_tensors)
    seeds = root_gradients(tensors, grad_tensors, "grad_tensors", "autograd.backward")
    run_backward(tensors, seeds, retain_graph=bool(retain_graph))


def _as_list(tensors):
    """One tensor or a sequence of them (and Nones) as a list."""
    return [tensors] if isinstance(tensors, TensorBase) else list(tensors)


__all__ = ["Function", "grad", "backward", "gradcheck", "GradcheckError", "detect_anomaly",
           "set_detect_anomaly", "is_anomaly_enabled", "no_grad", "enable_grad",
           "set_grad_enabled", "is_grad_enabled", "inference_mode", "once_differentiable"]
