"""Adam: momentum on the gradient plus RMSProp's per-dimension scaling, bias-corrected."""
import numpy as np

from .. import kernels
from ..autograd.tensor_base import increment_version
from ._inplace import decay_addcmul_
from .optimizer import (Optimizer, check_betas, check_lr, check_nonnegative,
                        check_not_differentiable, new_step, zeros_like_param)

__all__ = ["Adam"]


class Adam(Optimizer):
    r"""Adam (Kingma & Ba, 2015), as ``torch.optim.Adam``.

    The lectures write it as momentum plus RMSProp with bias correction::

        m = beta1 * m + (1 - beta1) * dx          # first moment (momentum)
        v = beta2 * v + (1 - beta2) * dx**2       # second moment (RMSProp's cache)
        mt = m / (1 - beta1**t);  vt = v / (1 - beta2**t)
        x += -lr * mt / (sqrt(vt) + eps)

    PyTorch computes the same thing in this order::

        m.lerp_(g, 1 - beta1)                     # m + (1 - beta1)(g - m)
        v = beta2 v + ((1 - beta2) g) g
        denom = sqrt(v) / sqrt(1 - beta2**t) + eps    (sqrt(max_v) with amsgrad)
        p = p + (-lr / (1 - beta1**t)) m / denom

    so eps is added to ``sqrt(vt)``, not to ``sqrt(v)``. chainrule evaluates the same values
    in fewer passes over each parameter, equal to PyTorch's to rounding::

        m = beta1 m + (1 - beta1) g
        denom = sqrt(v) + eps sqrt(1 - beta2**t)  # both sides times sqrt(1 - beta2**t)
        p = p - (m / denom) (lr sqrt(1 - beta2**t) / (1 - beta1**t))

    ``weight_decay`` adds ``wd * p`` to the gradient (L2); with ``decoupled_weight_decay=True``
    it instead shrinks ``p *= 1 - lr wd`` before the step (AdamW). ``amsgrad`` divides by the
    running maximum of ``v``.

    Args:
        params: tensors or parameter groups to optimise.
        lr (float): learning rate (default 1e-3).
        betas (tuple): ``(beta1, beta2)``, each in [0, 1) (default (0.9, 0.999)).
        eps (float): added to the denominator (default 1e-8).
        weight_decay (float): weight decay (default 0).
        amsgrad (bool): the AMSGrad variant (default False).
        maximize (bool): ascend instead of descend (default False).
        decoupled_weight_decay (bool): AdamW's decay (default False).
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0,
                 amsgrad=False, *, foreach=None, maximize=False, capturable=False,
                 differentiable=False, fused=None, decoupled_weight_decay=False):
        name = type(self).__name__
        lr = check_lr(name, lr)
        check_nonnegative(name, "eps", eps)
        betas = check_betas(name, betas)
        check_nonnegative(name, "weight_decay", weight_decay)
        check_not_differentiable(name, differentiable)
        defaults = dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                        maximize=maximize, foreach=foreach, capturable=capturable,
                        differentiable=differentiable, fused=fused,
                        decoupled_weight_decay=decoupled_weight_decay)
        super().__init__(params, defaults)

    def _init_state(self, st, p, group):
        st["step"] = new_step()
        st["exp_avg"] = zeros_like_param(p)
        st["exp_avg_sq"] = zeros_like_param(p)
        if group["amsgrad"]:
            st["max_exp_avg_sq"] = zeros_like_param(p)

    def _step_group(self, group):
        lr, (beta1, beta2), eps = group["lr"], group["betas"], group["eps"]
        amsgrad = group["amsgrad"]
        for p, x, g, st, step in self._params_with_grad(group):
            m, v = st["exp_avg"].array, st["exp_avg_sq"].array
            if _fused_step(x, g, m, v, st.get("max_exp_avg_sq"), lr, beta1, beta2, eps, step):
                increment_version(p)
                continue
            tmp, denom = self._buffer(x, "tmp"), self._buffer(x, "denom")
            m *= beta1  # lerp's value in passes that touch one array fewer
            np.multiply(g, 1 - beta1, out=tmp)
            m += tmp
            decay_addcmul_(v, beta2, g, 1 - beta2, tmp)

            bias_correction1 = 1 - beta1 ** step
            bias_correction2 = 1 - beta2 ** step
            step_size = lr / bias_correction1
            bias_correction2_sqrt = bias_correction2 ** 0.5
            if amsgrad:
                vmax = st["max_exp_avg_sq"].array
                np.maximum(vmax, v, out=vmax)
                v = vmax
            # Kingma & Ba's efficient form (section 2): one pass fewer than PyTorch's order;
            # scaling the quotient in place touches one array fewer than (lr m) / denom
            np.sqrt(v, out=denom)
            denom += eps * bias_correction2_sqrt
            np.divide(m, denom, out=denom)
            denom *= step_size * bias_correction2_sqrt
            x -= denom
            increment_version(p)


def _fused_step(x, g, m, v, vmax, lr, beta1, beta2, eps, step):
    """Adam's step in one pass (``kernels.adam``, the same operations as the passes in
    ``Adam._step_group``) where a compiled kernel and contiguous float arrays allow it; False
    leaves the step to the NumPy passes."""
    kernel = kernels.get("adam", x.size)
    vmax = vmax.array if vmax is not None else v
    arrays = kernel and x.dtype.kind == "f" and kernels.flat(x, g, m, v, vmax)
    if not arrays:
        return False
    bias_correction2_sqrt = (1 - beta2 ** step) ** 0.5
    step_size = lr / (1 - beta1 ** step)
    cast = x.dtype.type
    kernel(*arrays, cast(beta1), cast(1 - beta1), cast(beta2), cast(1 - beta2),
           cast(eps * bias_correction2_sqrt), cast(step_size * bias_correction2_sqrt),
           vmax is not v)
    return True
