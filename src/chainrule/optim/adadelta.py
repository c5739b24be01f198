"""Adadelta: RMSProp with the step size itself an exponential average (no lr needed)."""
import numpy as np

from ..autograd.tensor_base import increment_version
from ._inplace import add_scaled_, decay_addcmul_
from .optimizer import (Optimizer, check_lr, check_nonnegative, check_not_differentiable,
                        new_step, zeros_like_param)

__all__ = ["Adadelta"]


class Adadelta(Optimizer):
    r"""Adadelta (Zeiler, 2012), as ``torch.optim.Adadelta``.

    RMSProp's cache of squared gradients, with the numerator replaced by a running average of
    squared *updates*, so the step has the units of the parameter::

        cache = rho * cache + (1 - rho) * dx**2
        delta = sqrt(acc_delta + eps) / sqrt(cache + eps) * dx
        acc_delta = rho * acc_delta + (1 - rho) * delta**2
        x -= lr * delta                            (lr = 1 in the paper)

    PyTorch's order, followed here: ``square_avg = rho sq + ((1 - rho) g) g``,
    ``std = sqrt(sq + eps)``, ``delta = (sqrt(acc + eps) / std) g``,
    ``acc = rho acc + ((1 - rho) delta) delta``, ``p = p - lr delta``.

    Args:
        params: tensors or parameter groups to optimise.
        lr (float): scales delta (default 1.0).
        rho (float): decay of the running averages, in [0, 1] (default 0.9).
        eps (float): added inside the square roots (default 1e-6).
        weight_decay (float): L2 penalty (default 0).
        maximize (bool): ascend instead of descend (default False).
    """

    def __init__(self, params, lr=1.0, rho=0.9, eps=1e-6, weight_decay=0, foreach=None, *,
                 capturable=False, maximize=False, differentiable=False):
        lr = check_lr("Adadelta", lr)
        if not 0.0 <= rho <= 1.0:
            raise ValueError(f"Adadelta: invalid rho={rho!r}; expected 0 <= rho <= 1")
        check_nonnegative("Adadelta", "eps", eps)
        check_nonnegative("Adadelta", "weight_decay", weight_decay)
        check_not_differentiable("Adadelta", differentiable)
        defaults = dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize,
                        capturable=capturable, foreach=foreach, differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, st, p, group):
        st["step"] = new_step()
        st["square_avg"] = zeros_like_param(p)
        st["acc_delta"] = zeros_like_param(p)

    def _step_group(self, group):
        lr, rho, eps = group["lr"], group["rho"], group["eps"]
        for p, x, g, st, _ in self._params_with_grad(group):
            square_avg, acc_delta = st["square_avg"].array, st["acc_delta"].array
            tmp, std, delta = (self._buffer(x, "tmp"), self._buffer(x, "denom"),
                               self._buffer(x, "delta"))
            decay_addcmul_(square_avg, rho, g, 1 - rho, tmp)
            np.add(square_avg, eps, out=std)
            np.sqrt(std, out=std)
            np.add(acc_delta, eps, out=delta)
            np.sqrt(delta, out=delta)
            delta /= std
            delta *= g
            decay_addcmul_(acc_delta, rho, delta, 1 - rho, tmp)
            add_scaled_(x, delta, -lr, delta)
            increment_version(p)
