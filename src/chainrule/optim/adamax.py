"""Adamax: Adam with the infinity norm in place of the second moment."""
import numpy as np

from ..autograd.tensor_base import increment_version
from ._inplace import addcdiv_, lerp_
from .optimizer import (Optimizer, check_betas, check_lr, check_nonnegative,
                        check_not_differentiable, new_step, zeros_like_param)

__all__ = ["Adamax"]


class Adamax(Optimizer):
    r"""Adamax (Kingma & Ba, 2015, section 7), as ``torch.optim.Adamax``.

    Adam's ``v`` (an L2 average of past gradients) becomes an exponentially weighted infinity
    norm, which needs no bias correction::

        m = beta1 * m + (1 - beta1) * dx
        u = max(beta2 * u, |dx| + eps)
        x += -lr / (1 - beta1**t) * m / u

    PyTorch's form puts ``eps`` inside the max (the paper adds it to the denominator) and
    computes ``m.lerp_(g, 1 - beta1)``, ``p = p + (-clr m) / u``, which chainrule follows.

    Args:
        params: tensors or parameter groups to optimise.
        lr (float): learning rate (default 2e-3).
        betas (tuple): ``(beta1, beta2)`` in [0, 1) (default (0.9, 0.999)).
        eps (float): floor of the norm (default 1e-8).
        weight_decay (float): L2 penalty (default 0).
        maximize (bool): ascend instead of descend (default False).
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 foreach=None, *, maximize=False, differentiable=False, capturable=False):
        lr = check_lr("Adamax", lr)
        check_nonnegative("Adamax", "eps", eps)
        betas = check_betas("Adamax", betas)
        check_nonnegative("Adamax", "weight_decay", weight_decay)
        check_not_differentiable("Adamax", differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, foreach=foreach,
                        maximize=maximize, differentiable=differentiable, capturable=capturable)
        super().__init__(params, defaults)

    def _init_state(self, st, p, group):
        st["step"] = new_step()
        st["exp_avg"] = zeros_like_param(p)
        st["exp_inf"] = zeros_like_param(p)

    def _step_group(self, group):
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        for p, x, g, st, step in self._params_with_grad(group):
            m, u = st["exp_avg"].array, st["exp_inf"].array
            tmp = self._buffer(x, "tmp")
            lerp_(m, g, 1 - beta1, tmp)
            u *= beta2
            np.abs(g, out=tmp)
            tmp += eps
            np.maximum(u, tmp, out=u)
            clr = lr / (1 - beta1 ** step)
            addcdiv_(x, m, u, -clr, tmp)
            increment_version(p)
