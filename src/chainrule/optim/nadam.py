"""NAdam: Adam with Nesterov momentum."""
import numpy as np

from ..autograd.tensor_base import increment_version, make_tensor
from ._inplace import addcdiv_, decay_addcmul_, lerp_
from .optimizer import (Optimizer, check_betas, check_lr, check_nonnegative,
                        check_not_differentiable, new_step, zeros_like_param)

__all__ = ["NAdam"]


class NAdam(Optimizer):
    r"""NAdam (Dozat, 2016), as ``torch.optim.NAdam``.

    Nesterov's look-ahead applied to Adam: the step uses the *next* momentum
    ``mu_{t+1} m_t`` plus the current gradient's share, each bias-corrected by the product of
    the momentum schedule so far::

        mu_t = beta1 (1 - 0.5 * 0.96**(t * momentum_decay))     # warming-up momentum
        m = beta1 m + (1 - beta1) g;  v = beta2 v + (1 - beta2) g**2
        x -= lr [ (1 - mu_t) / (1 - prod_{i<=t} mu_i) g
                  + mu_{t+1} / (1 - prod_{i<=t+1} mu_i) m ] / (sqrt(v / (1 - beta2**t)) + eps)

    The product ``prod mu_i`` is the state ``mu_product``, kept (as in PyTorch) as a float32
    scalar tensor, so it rounds to float32 each step even for float64 parameters. PyTorch's
    order, followed here: ``denom = sqrt(v / bc2) + eps`` then two ``addcdiv`` updates.
    ``decoupled_weight_decay=True`` shrinks ``p *= 1 - lr wd`` instead of adding ``wd p`` to the
    gradient (NAdamW).

    Args:
        params: tensors or parameter groups to optimise.
        lr (float): learning rate (default 2e-3).
        betas (tuple): ``(beta1, beta2)`` in [0, 1) (default (0.9, 0.999)).
        eps (float): added to the denominator (default 1e-8).
        weight_decay (float): weight decay (default 0).
        momentum_decay (float): the schedule's ``psi`` (default 4e-3).
        decoupled_weight_decay (bool): AdamW-style decay (default False).
        maximize (bool): ascend instead of descend (default False).
    """

    def __init__(self, params, lr=2e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 momentum_decay=4e-3, decoupled_weight_decay=False, *, foreach=None,
                 maximize=False, capturable=False, differentiable=False):
        lr = check_lr("NAdam", lr)
        check_nonnegative("NAdam", "eps", eps)
        betas = check_betas("NAdam", betas)
        check_nonnegative("NAdam", "weight_decay", weight_decay)
        check_nonnegative("NAdam", "momentum_decay", momentum_decay)
        check_not_differentiable("NAdam", differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                        momentum_decay=momentum_decay,
                        decoupled_weight_decay=decoupled_weight_decay, maximize=maximize,
                        foreach=foreach, capturable=capturable, differentiable=differentiable)
        super().__init__(params, defaults)

    def _init_state(self, st, p, group):
        st["step"] = new_step()
        st["mu_product"] = make_tensor(np.ones((), dtype=np.float32))
        st["exp_avg"] = zeros_like_param(p)
        st["exp_avg_sq"] = zeros_like_param(p)

    def _step_group(self, group):
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        momentum_decay = group["momentum_decay"]
        for p, x, g, st, step in self._params_with_grad(group):
            bias_correction2 = 1 - beta2 ** step
            mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * momentum_decay)))
            mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * momentum_decay)))
            mu_product_arr = st["mu_product"].array
            mu_product_arr *= mu
            mu_product = mu_product_arr.item()

            m, v = st["exp_avg"].array, st["exp_avg_sq"].array
            tmp, denom = self._buffer(x, "tmp"), self._buffer(x, "denom")
            lerp_(m, g, 1 - beta1, tmp)
            decay_addcmul_(v, beta2, g, 1 - beta2, tmp)
            np.divide(v, bias_correction2, out=denom)
            np.sqrt(denom, out=denom)
            mu_product_next = mu_product * mu_next
            denom += eps
            addcdiv_(x, g, denom, -lr * (1.0 - mu) / (1.0 - mu_product), tmp)
            addcdiv_(x, m, denom, (-lr * mu_next) / (1.0 - mu_product_next), tmp)
            increment_version(p)
