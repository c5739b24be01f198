"""AdamW: Adam with decoupled weight decay."""
from .adam import Adam

__all__ = ["AdamW"]


class AdamW(Adam):
    r"""AdamW (Loshchilov & Hutter, 2019), as ``torch.optim.AdamW``: Adam whose weight decay
    shrinks the parameters directly instead of entering the gradient's moments::

        x *= 1 - lr * weight_decay               # decoupled decay, before the Adam step
        m = beta1 * m + (1 - beta1) * dx;  v = beta2 * v + (1 - beta2) * dx**2
        x += -lr * mt / (sqrt(vt) + eps)         # mt, vt bias-corrected as in Adam

    With L2 decay inside Adam the penalty's gradient is divided by ``sqrt(v)`` and so decays
    rarely-updated weights more; here every weight decays at the same rate ``lr * wd``.
    PyTorch's order of operations is Adam's (see ``Adam``).

    Args are Adam's; ``weight_decay`` defaults to 1e-2.
    """

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2,
                 amsgrad=False, *, maximize=False, foreach=None, capturable=False,
                 differentiable=False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)

    def _fix_group(self, group):
        group["decoupled_weight_decay"] = True
