"""Reverse-mode automatic differentiation: Function, the backward engine, grad mode, gradcheck."""
from .anomaly import detect_anomaly, is_anomaly_enabled, set_detect_anomaly
from .function import Function, once_differentiable
from .grad_mode import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from .gradcheck import GradcheckError, gradcheck


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, create_graph=False,
         allow_unused=False):
    """Gradients of ``outputs`` with respect to ``inputs``, returned as a tuple; ``.grad`` of the
    inputs is left untouched (``torch.autograd.grad``)."""
    import numpy as np

    from ..tensor import Tensor
    from .engine import run_backward

    if create_graph:
        raise RuntimeError("autograd.grad(create_graph=True): chainrule computes gradients on raw "
                           "arrays, so higher-order derivatives are not available")
    outputs = [outputs] if isinstance(outputs, Tensor) else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None:
        grad_outputs = [None] * len(outputs)
    elif isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs]
    seeds = []
    for o, g in zip(outputs, grad_outputs):
        if not o.requires_grad:
            raise RuntimeError("autograd.grad: an output does not require grad and has no grad_fn")
        if g is None:
            if o.array.size != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs; "
                                   f"output has shape {tuple(o.shape)}: pass grad_outputs")
            seeds.append(np.ones(o.array.shape, o.array.dtype))
        else:
            seeds.append(np.asarray(g.array if isinstance(g, Tensor) else g, dtype=o.array.dtype))
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
            out.append(Tensor._make(np.array(g, dtype=t.array.dtype)))
    return tuple(out)


def backward(tensors, grad_tensors=None, retain_graph=None):
    """``torch.autograd.backward``: backward from several tensors at once."""
    import numpy as np

    from ..tensor import Tensor
    from .engine import run_backward

    tensors = [tensors] if isinstance(tensors, Tensor) else list(tensors)
    if grad_tensors is None:
        grad_tensors = [None] * len(tensors)
    elif isinstance(grad_tensors, Tensor):
        grad_tensors = [grad_tensors]
    seeds = []
    for t, g in zip(tensors, grad_tensors):
        if g is None:
            if t.array.size != 1:
                raise RuntimeError("grad can be implicitly created only for scalar outputs")
            seeds.append(np.ones(t.array.shape, t.array.dtype))
        else:
            # a copy: the seed can end up as a leaf's .grad, which later accumulates in place
            seeds.append(np.array(g.array if isinstance(g, Tensor) else g, dtype=t.array.dtype))
    run_backward(tensors, seeds, retain_graph=bool(retain_graph))


__all__ = ["Function", "grad", "backward", "gradcheck", "GradcheckError", "detect_anomaly",
           "set_detect_anomaly", "is_anomaly_enabled", "no_grad", "enable_grad",
           "set_grad_enabled", "is_grad_enabled", "inference_mode", "once_differentiable"]
