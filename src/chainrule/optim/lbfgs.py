"""L-BFGS, the limited-memory quasi-Newton method, as ``torch.optim.LBFGS`` (no line search)."""
import numpy as np

from ..autograd import enable_grad
from ..autograd.tensor_base import increment_version, make_tensor
from .optimizer import Optimizer, check_lr

__all__ = ["LBFGS"]


class LBFGS(Optimizer):
    r"""L-BFGS over all parameters flattened into one vector x, as ``torch.optim.LBFGS``.

    ``step(closure)`` runs up to ``max_iter`` iterations; ``closure`` re-evaluates the model,
    calls ``backward`` and returns the loss. Each iteration picks the direction d = -H g from the
    last ``history_size`` pairs s = x_{k+1} - x_k, y = g_{k+1} - g_k (pairs with y.s <= 1e-10 are
    skipped) by the two-loop recursion, starting from H_0 = (y.s / y.y) I::

        q = -g;  for i newest..oldest:  a_i = rho_i s_i.q;  q -= a_i y_i        (rho_i = 1 / y_i.s_i)
        r = H_0 q;  for i oldest..newest:  b = rho_i y_i.r;  r += (a_i - b) s_i;  d = r

    and moves x += t d with t = lr (the very first step min(1, 1/|g|_1) lr). It stops early when
    max |g| <= tolerance_grad, when the directional derivative g.d > -tolerance_change, when a step
    or the change of the loss is below tolerance_change, or after max_eval evaluations.
    State carries over between ``step`` calls, as in PyTorch. ``line_search_fn="strong_wolfe"``
    is not available in chainrule.
    """

    def __init__(self, params, lr=1, max_iter=20, max_eval=None, tolerance_grad=1e-7,
                 tolerance_change=1e-9, history_size=100, line_search_fn=None):
        lr = check_lr("LBFGS", lr)
        if line_search_fn is not None:
            raise ValueError(f"LBFGS: line_search_fn={line_search_fn!r} is not available in "
                             f"chainrule; use line_search_fn=None (a fixed step lr)")
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                        tolerance_change=tolerance_change, history_size=history_size,
                        line_search_fn=line_search_fn)
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError("LBFGS doesn't support per-parameter options (parameter groups)")
        self._params = self.param_groups[0]["params"]

    def _gather_flat_grad(self):
        return np.concatenate([np.zeros(p.array.size, p.array.dtype) if p.grad is None
                               else p.grad.array.reshape(-1) for p in self._params])

    def _add_grad(self, step_size, direction):
        offset = 0
        for p in self._params:
            n = p.array.size
            p.array += step_size * direction[offset:offset + n].reshape(p.array.shape)
            increment_version(p)
            offset += n

    def step(self, closure):
        """One optimisation step of up to ``max_iter`` iterations; returns the first loss."""
        if closure is None:
            raise RuntimeError("LBFGS: step() needs a closure that re-evaluates the model and "
                               "returns the loss")
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]
        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        with enable_grad():
            orig_loss = closure()
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if np.abs(flat_grad).max() <= tolerance_grad:
            return orig_loss

        d, t = _array(state.get("d")), state.get("t")
        old_dirs = [_array(v) for v in state.get("old_dirs", [])]
        old_stps = [_array(v) for v in state.get("old_stps", [])]
        ro, h_diag = list(state.get("ro", [])), state.get("H_diag")
        prev_flat_grad, prev_loss = _array(state.get("prev_flat_grad")), state.get("prev_loss")

        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro, h_diag = [], [], [], 1.0
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = float(y @ s)
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0), old_stps.pop(0), ro.pop(0)
                    old_dirs.append(y), old_stps.append(s), ro.append(1.0 / ys)
                    h_diag = ys / float(y @ y)
                al = [0.0] * len(old_dirs)
                q = -flat_grad
                for i in range(len(old_dirs) - 1, -1, -1):
                    al[i] = float(old_stps[i] @ q) * ro[i]
                    q = q - al[i] * old_dirs[i]
                d = r = q * h_diag
                for i in range(len(old_dirs)):
                    be_i = float(old_dirs[i] @ r) * ro[i]
                    r += (al[i] - be_i) * old_stps[i]
            prev_flat_grad = flat_grad.copy()
            prev_loss = loss
            t = (min(1.0, 1.0 / float(np.abs(flat_grad).sum())) * lr if state["n_iter"] == 1 else lr)
            if float(flat_grad @ d) > -tolerance_change:
                break

            evals = 0
            self._add_grad(t, d)
            converged = False
            if n_iter != max_iter:
                with enable_grad():
                    loss = float(closure())
                flat_grad = self._gather_flat_grad()
                converged = np.abs(flat_grad).max() <= tolerance_grad
                evals = 1
            current_evals += evals
            state["func_evals"] += evals
            if n_iter == max_iter or current_evals >= max_eval or converged:
                break
            if np.abs(d * t).max() <= tolerance_change or abs(loss - prev_loss) < tolerance_change:
                break

        state["d"], state["t"] = make_tensor(d), t
        state["old_dirs"] = [make_tensor(v) for v in old_dirs]
        state["old_stps"] = [make_tensor(v) for v in old_stps]
        state["ro"], state["H_diag"] = ro, h_diag
        state["prev_flat_grad"], state["prev_loss"] = make_tensor(prev_flat_grad), prev_loss
        return orig_loss


def _array(value):
    return None if value is None else value.array
