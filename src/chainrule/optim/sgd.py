"""Stochastic gradient descent, with momentum and Nesterov momentum."""
import numpy as np

from .. import kernels
from ..autograd.tensor_base import increment_version, make_tensor
from ._inplace import add_scaled_
from .optimizer import Optimizer, check_lr, check_nonnegative, check_not_differentiable

__all__ = ["SGD"]


class SGD(Optimizer):
    r"""Stochastic gradient descent (optionally with momentum), as ``torch.optim.SGD``.

    The lectures write the updates as

    * vanilla:   ``x -= lr * dx``
    * momentum:  ``v = mu * v - lr * dx;  x += v``  (v is a velocity, mu ~ 0.9 a friction)
    * Nesterov:  ``v_prev = v;  v = mu * v - lr * dx;  x += -mu * v_prev + (1 + mu) * v``
      (the gradient is taken at the look-ahead point ``x + mu v``; this form rewrites the
      update in terms of the current point).

    PyTorch (and chainrule) keep a buffer of *gradients* instead of a velocity, with ``lr``
    applied outside it::

        g = grad + weight_decay * p                  (``-grad`` first when maximize)
        b = g                          on the first step
        b = momentum * b + (1 - dampening) * g       afterwards
        g = g + momentum * b   if nesterov   else   g = b
        p = p - lr * g

    With constant ``lr`` and no dampening ``b = -v / lr``, so the momentum trajectories are the
    lectures'; they differ when ``lr`` changes mid-run (PyTorch's buffer does not rescale the
    past) and on the first step (the buffer starts at ``g``, the velocity at ``-lr g``).
    Nesterov's ``g + mu b`` is the same look-ahead rewritten (Sutskever et al., 2013).

    Args:
        params: tensors or parameter groups to optimise.
        lr (float): learning rate (default 1e-3).
        momentum (float): momentum factor ``mu`` (default 0).
        dampening (float): dampening for momentum (default 0).
        weight_decay (float): L2 penalty added to the gradient (default 0).
        nesterov (bool): Nesterov momentum (default False); needs momentum > 0, dampening 0.
        maximize (bool): ascend the objective instead of descending (default False).
    """

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0,
                 nesterov=False, *, maximize=False, foreach=None, differentiable=False,
                 fused=None):
        lr = check_lr("SGD", lr)
        check_nonnegative("SGD", "momentum", momentum)
        check_nonnegative("SGD", "weight_decay", weight_decay)
        check_not_differentiable("SGD", differentiable)
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"SGD: Nesterov momentum requires a momentum > 0 and zero "
                             f"dampening, got momentum={momentum!r}, dampening={dampening!r}")
        defaults = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay,
                        nesterov=nesterov, maximize=maximize, foreach=foreach,
                        differentiable=differentiable, fused=fused)
        super().__init__(params, defaults)

    def _step_group(self, group):
        lr, momentum, dampening = group["lr"], group["momentum"], group["dampening"]
        weight_decay, nesterov, maximize = group["weight_decay"], group["nesterov"], group["maximize"]
        if not (momentum or weight_decay or maximize):
            return self._plain_step(group["params"], lr)
        state = self.state
        decays = weight_decay or maximize
        for p in group["params"]:
            grad = p.grad
            if grad is None:
                continue
            x = p.array
            grad = grad.array
            g = self._effective_grad(x, grad, weight_decay, maximize) if decays else grad
            owned = g is not grad  # a scratch buffer we may overwrite
            if momentum != 0:
                st = state[p]
                buf_t = st.get("momentum_buffer")
                if buf_t is None:
                    buf = g.copy()
                    st["momentum_buffer"] = make_tensor(buf)
                elif _fused_step(x, g, buf_t.array, lr, momentum, 1 - dampening, nesterov):
                    increment_version(p)
                    continue
                else:
                    buf = buf_t.array
                    buf *= momentum
                    add_scaled_(buf, g, 1 - dampening, self._buffer(x, "tmp"))
                if nesterov:
                    tmp = self._buffer(x, "tmp")
                    np.multiply(buf, momentum, out=tmp)
                    tmp += g
                    g, owned = tmp, True
                else:
                    g, owned = buf, False
            add_scaled_(x, g, -lr, g if owned else self._buffer(x, "tmp"))
            increment_version(p)


    def _plain_step(self, params, lr):
        """``x -= lr g`` for every parameter with a gradient: one compiled pass each
        (``kernels.sgd``) where it applies, else ``add_scaled_``'s two NumPy passes. A small
        model's step does not load Numba for it (``kernels.get_lazily``)."""
        # the serial build, asked once (a small model's parameters all take it), when loaded
        serial = kernels.get("sgd") if kernels.loaded() else None
        for p in params:
            grad = p.grad
            if grad is None:
                continue
            x, g = p.array, grad.array
            kernel = (serial if serial is not None and x.size < kernels.PARALLEL_MIN
                      else kernels.get_lazily("sgd", x.size))
            if (kernel is not None and type(x) is np.ndarray and type(g) is np.ndarray
                    and x.dtype is g.dtype and x.shape == g.shape and x.dtype in kernels.DTYPES
                    and x.flags.c_contiguous and g.flags.c_contiguous):
                kernel(x, g, x.dtype.type(lr))
            elif x.size < kernels.LOAD_MIN and g.dtype == x.dtype:
                x -= g * lr     # add_scaled_'s two passes, without its scratch buffer's lookup
            else:
                add_scaled_(x, g, -lr, self._buffer(x, "tmp"))
            p._version += 1     # increment_version, inline: this runs per parameter per step


def _fused_step(x, g, buf, lr, momentum, gain, nesterov):
    """The momentum step in one pass (``kernels.sgd_momentum``) where a compiled kernel and
    contiguous float arrays allow it; False leaves the step to the NumPy passes above."""
    kernel = kernels.get("sgd_momentum", x.size)
    arrays = kernel and x.dtype.kind == "f" and kernels.flat(x, g, buf)
    if not arrays:
        return False
    cast = x.dtype.type
    kernel(*arrays, cast(lr), cast(momentum), cast(gain), nesterov)
    return True
