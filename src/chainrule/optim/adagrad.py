"""Adagrad: per-dimension learning rates from the accumulated squared gradients."""
import numpy as np

from ..autograd.tensor_base import increment_version, make_tensor
from ._inplace import addcdiv_, addcmul_
from .optimizer import (Optimizer, check_lr, check_nonnegative,
                        check_not_differentiable, new_step)

__all__ = ["Adagrad"]


class Adagrad(Optimizer):
    r"""Adagrad (Duchi et al., 2011), as ``torch.optim.Adagrad``.

    The lectures write it as a per-dimension cache of squared gradients::

        cache += dx**2
        x += -lr * dx / (sqrt(cache) + eps)

    so steep directions slow down and shallow ones keep their pace; the effective rate only
    shrinks. PyTorch adds a learning-rate decay ``clr = lr / (1 + (t - 1) lr_decay)`` and starts
    the cache at ``initial_accumulator_value``; the order is ``sum += g g``,
    ``p = p + (-clr g) / (sqrt(sum) + eps)``. As in PyTorch the state (``step``, ``sum``) is
    created for every parameter in the constructor.

    Args:
        params: tensors or parameter groups to optimise.
        lr (float): learning rate (default 1e-2).
        lr_decay (float): learning-rate decay (default 0).
        weight_decay (float): L2 penalty (default 0).
        initial_accumulator_value (float): the cache's starting value (default 0).
        eps (float): added to the denominator (default 1e-10).
        maximize (bool): ascend instead of descend (default False).
    """

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0,
                 eps=1e-10, foreach=None, *, maximize=False, differentiable=False, fused=None):
        lr = check_lr("Adagrad", lr)
        check_nonnegative("Adagrad", "lr_decay", lr_decay)
        check_nonnegative("Adagrad", "weight_decay", weight_decay)
        check_nonnegative("Adagrad", "initial_accumulator_value", initial_accumulator_value)
        check_nonnegative("Adagrad", "eps", eps)
        check_not_differentiable("Adagrad", differentiable)
        defaults = dict(lr=lr, lr_decay=lr_decay, eps=eps, weight_decay=weight_decay,
                        initial_accumulator_value=initial_accumulator_value, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)
        for group in self.param_groups:
            for p in group["params"]:
                self._init_state(self.state[p], p, group)

    def _init_state(self, st, p, group):
        st["step"] = new_step()
        st["sum"] = make_tensor(np.full_like(p.array, self.defaults["initial_accumulator_value"]))

    def _step_group(self, group):
        lr, lr_decay, eps = group["lr"], group["lr_decay"], group["eps"]
        for p, x, g, st, step in self._params_with_grad(group):
            clr = lr / (1 + (step - 1) * lr_decay)
            total = st["sum"].array
            tmp, std = self._buffer(x, "tmp"), self._buffer(x, "denom")
            addcmul_(total, g, g, 1, tmp)
            np.sqrt(total, out=std)
            std += eps
            addcdiv_(x, g, std, -clr, tmp)
            increment_version(p)
