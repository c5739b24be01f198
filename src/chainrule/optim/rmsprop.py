"""RMSProp: Adagrad's cache made a leaky (exponential) average."""
import numpy as np

from ..autograd.tensor_base import increment_version
from ._inplace import add_scaled_, addcdiv_, decay_addcmul_, lerp_
from .optimizer import (Optimizer, check_lr, check_nonnegative, check_not_differentiable,
                        new_step, zeros_like_param)

__all__ = ["RMSprop"]


class RMSprop(Optimizer):
    r"""RMSProp (Hinton, Coursera lecture 6e), as ``torch.optim.RMSprop``.

    The lectures write it as Adagrad with a leaky cache, so the step size stops shrinking::

        cache = decay_rate * cache + (1 - decay_rate) * dx**2
        x += -lr * dx / (sqrt(cache) + eps)

    ``alpha`` is the decay rate. PyTorch's order, followed here:
    ``square_avg = alpha sq + ((1 - alpha) g) g``; with ``centered`` the running mean of the
    gradient is subtracted, ``avg = sqrt(sq - mean_g**2) + eps`` (an estimate of the variance);
    then ``p = p + (-lr g) / avg``, or with ``momentum`` a buffer ``b = momentum b + g / avg``
    and ``p = p - lr b``.

    Args:
        params: tensors or parameter groups to optimise.
        lr (float): learning rate (default 1e-2).
        alpha (float): smoothing constant (default 0.99).
        eps (float): added to the denominator (default 1e-8).
        weight_decay (float): L2 penalty (default 0).
        momentum (float): momentum factor (default 0).
        centered (bool): normalise by the gradient's estimated variance (default False).
        maximize (bool): ascend instead of descend (default False).
    """

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0,
                 centered=False, capturable=False, foreach=None, maximize=False,
                 differentiable=False):
        lr = check_lr("RMSprop", lr)
        check_nonnegative("RMSprop", "eps", eps)
        check_nonnegative("RMSprop", "momentum", momentum)
        check_nonnegative("RMSprop", "weight_decay", weight_decay)
        check_nonnegative("RMSprop", "alpha", alpha)
        check_not_differentiable("RMSprop", differentiable)
        defaults = dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps, centered=centered,
                        weight_decay=weight_decay, capturable=capturable, foreach=foreach,
                        maximize=maximize, differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, st, p, group):
        st["step"] = new_step()
        st["square_avg"] = zeros_like_param(p)
        if group["momentum"] > 0:
            st["momentum_buffer"] = zeros_like_param(p)
        if group["centered"]:
            st["grad_avg"] = zeros_like_param(p)

    def _step_group(self, group):
        lr, alpha, eps = group["lr"], group["alpha"], group["eps"]
        momentum, centered = group["momentum"], group["centered"]
        for p, x, g, st, _ in self._params_with_grad(group):
            square_avg = st["square_avg"].array
            tmp, avg = self._buffer(x, "tmp"), self._buffer(x, "denom")
            decay_addcmul_(square_avg, alpha, g, 1 - alpha, tmp)
            if centered:
                grad_avg = st["grad_avg"].array
                lerp_(grad_avg, g, 1 - alpha, tmp)
                np.multiply(grad_avg, grad_avg, out=avg)
                np.subtract(square_avg, avg, out=avg)
                np.sqrt(avg, out=avg)
            else:
                np.sqrt(square_avg, out=avg)
            avg += eps
            if momentum > 0:
                buf = st["momentum_buffer"].array
                buf *= momentum
                addcdiv_(buf, g, avg, 1, tmp)
                add_scaled_(x, buf, -lr, tmp)
            else:
                addcdiv_(x, g, avg, -lr, tmp)
            increment_version(p)
