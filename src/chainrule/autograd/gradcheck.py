"""``gradcheck``: compare analytic gradients with central finite differences in float64."""
import numpy as np

from .engine import run_backward
from .grad_mode import enable_grad, no_grad
from .tensor_base import TensorBase


class GradcheckError(RuntimeError):
    """Raised by ``gradcheck`` when an analytic gradient disagrees with finite differences."""


def gradcheck(fn, inputs, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True):
    """Check ``fn``'s backward against finite differences; return True or raise.

    ``inputs`` is a tensor or a tuple of them; those with ``requires_grad=True`` are checked and
    must be float64 (float32 differences are too coarse to prove anything). For every element
    x_k, the numerical derivative (f(x + eps e_k) - f(x - eps e_k)) / (2 eps) of every output
    element is compared with the analytic one from backward, which is computed once per output
    element. The error names the input, the element, and both values.

    >>> def my_layer(x, w):
    ...     return (x @ w).tanh()
    >>> x = cr.randn(3, 4, dtype=cr.float64, requires_grad=True)
    >>> w = cr.randn(4, 2, dtype=cr.float64, requires_grad=True)
    >>> cr.autograd.gradcheck(my_layer, (x, w))
    True
    """
    if isinstance(inputs, TensorBase):
        inputs = (inputs,)
    inputs = tuple(inputs)
    checked = [i for i, t in enumerate(inputs) if isinstance(t, TensorBase) and t.requires_grad]
    if not checked:
        raise ValueError("gradcheck: no input has requires_grad=True; nothing to check")
    for i in checked:
        if inputs[i].array.dtype != np.float64:
            raise ValueError(f"gradcheck: input {i} is {inputs[i].dtype}; use float64 "
                             f"(.double()) so that finite differences are accurate")

    def outputs():
        out = fn(*inputs)
        return out if isinstance(out, (tuple, list)) else (out,)

    with enable_grad():
        outs = [o for o in outputs() if isinstance(o, TensorBase)]
    outs_np = [o.array.copy() for o in outs]

    # Analytic Jacobian, one output element at a time: J[j][i] has input i's gradient of the
    # output element j.
    analytic = {i: [] for i in checked}
    for oi, o in enumerate(outs):
        if not o.requires_grad:
            for i in checked:
                analytic[i].append(np.zeros((o.array.size,) + inputs[i].array.shape))
            continue
        rows = {i: np.zeros((o.array.size,) + inputs[i].array.shape) for i in checked}
        for j in range(o.array.size):
            seed = np.zeros(o.array.shape, o.array.dtype)
            seed.reshape(-1)[j] = 1.0
            grads = run_backward((o,), (seed,), retain_graph=True,
                                 capture=[inputs[i] for i in checked])
            for i, g in zip(checked, grads):
                if g is not None:
                    rows[i][j] = g
        for i in checked:
            analytic[i].append(rows[i])

    with no_grad():
        for i in checked:
            x = inputs[i].array
            flat = x.reshape(-1)
            for k in range(flat.size):
                orig = flat[k]
                flat[k] = orig + eps
                plus = [o.array.copy() for o in outputs() if isinstance(o, TensorBase)]
                flat[k] = orig - eps
                minus = [o.array.copy() for o in outputs() if isinstance(o, TensorBase)]
                flat[k] = orig
                for oi in range(len(outs)):
                    num = ((plus[oi] - minus[oi]) / (2 * eps)).reshape(-1)
                    ana = analytic[i][oi].reshape(outs_np[oi].size, -1)[:, k]
                    bad = ~np.isclose(ana, num, rtol=rtol, atol=atol, equal_nan=True)
                    if bad.any():
                        j = int(np.argmax(bad))
                        where = tuple(int(n) for n in np.unravel_index(k, x.shape))
                        msg = (f"gradcheck: Jacobian mismatch for output {oi} element {j} with "
                               f"respect to input {i} element {where}: "
                               f"numerical {float(num[j])!r}, analytic {float(ana[j])!r} "
                               f"(atol={atol}, rtol={rtol})")
                        if raise_exception:
                            raise GradcheckError(msg)
                        return False
    return True
