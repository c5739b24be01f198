"""Regularisation helpers: L1 / L2 penalties to add to a loss, and the max-norm constraint.

    loss = criterion(model(x), y) + 1e-4 * cr.nn.utils.l2_penalty(model)

Weight decay (the L2 penalty folded into the update) lives in the optimisers.
"""
import numpy as np

from ...autograd.tensor_base import increment_version
from ...tensor import Tensor
from ..module import Module


def _weights(module_or_params):
    """A Module contributes its weight matrices and kernels (parameters with 2 or more dims):
    biases and normalisation scales are conventionally not penalised. An iterable is used as is."""
    if isinstance(module_or_params, Module):
        return [p for p in module_or_params.parameters() if p.ndim >= 2]
    if isinstance(module_or_params, Tensor):
        return [module_or_params]
    return list(module_or_params)


def _total(name, terms):
    if not terms:
        raise ValueError(f"{name}: no weights to penalise")
    total = terms[0]
    for t in terms[1:]:
        total = total + t
    return total


def l1_penalty(module_or_params):
    """sum |w| over the weights (differentiable): encourages sparse weights."""
    return _total("l1_penalty", [p.abs().sum() for p in _weights(module_or_params)])


def l2_penalty(module_or_params):
    """sum w^2 over the weights (differentiable; ||w||^2, without a factor 1/2): its gradient is
    2w, so ``lam / 2 * l2_penalty`` matches weight decay ``lam``."""
    return _total("l2_penalty", [(p * p).sum() for p in _weights(module_or_params)])


def max_norm_(module_or_params, max_norm, dim=0, norm_type=2.0, eps=1e-7):
    """Max-norm constraint (Srebro et al.; with dropout in Srivastava et al. 2014): rescale, in
    place, each slice ``w[i]`` along ``dim`` (for Linear's (out, in) weight, dim=0: the incoming
    weights of each unit) whose ``norm_type``-norm exceeds ``max_norm`` back onto the ball, as
    ``torch.renorm``. Call it after ``optimizer.step()``. Returns the number of slices rescaled."""
    rescaled = 0
    for p in _weights(module_or_params):
        w = p.array
        if w.ndim < 2:
            continue
        moved = np.moveaxis(w, dim, 0).reshape(w.shape[dim], -1)
        norms = np.linalg.norm(moved, ord=norm_type, axis=1)
        factor = np.where(norms > max_norm, max_norm / (norms + eps), 1.0).astype(w.dtype)
        over = int((norms > max_norm).sum())
        if over:
            shape = [1] * w.ndim
            shape[dim] = w.shape[dim]
            w *= factor.reshape(shape)
            increment_version(p)
            rescaled += over
    return rescaled
