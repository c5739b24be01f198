"""Run one program in both libraries and compare outputs and every input gradient.

Tolerances are per dtype and relative to the size of PyTorch's values; NaN must be NaN where
PyTorch has NaN, and an infinity the same infinity.
"""
import warnings

import numpy as np

TOLERANCES = {"float64": (1e-6, 1e-9), "float32": (2e-3, 2e-4)}   # (rtol, atol)


def run_program(source, lib, inputs, weights):
    """``(outputs, gradients)`` as NumPy arrays (a gradient is None where none arrived)."""
    env = {}
    exec(source, env)
    leaves = [lib.tensor(a.copy(), requires_grad=True) for a in inputs]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        outs = env["program"](lib, *leaves)
        loss = None
        for o, w in zip(outs, weights):
            if o.requires_grad and w is not None:   # None: forward only
                term = (o * lib.tensor(w)).sum()
                loss = term if loss is None else loss + term
        if loss is not None:
            loss.backward()
    as_np = (lambda t: t.detach().numpy().copy())
    grads = [None if x.grad is None else as_np(x.grad) for x in leaves]
    return [as_np(o) for o in outs], grads


def difference(got, want, dtype):
    """None when ``got`` (chainrule) matches ``want`` (PyTorch), else a short description."""
    if want is None and got is None:
        return None
    if want is None or got is None:
        present = want if got is None else got
        if not np.any(present):        # an all-zero gradient and no gradient are the same thing
            return None
        return f"{'chainrule' if got is None else 'PyTorch'} has no gradient"
    if got.shape != want.shape:
        return f"shape {got.shape} != PyTorch's {want.shape}"
    if got.dtype != want.dtype:
        return f"dtype {got.dtype} != PyTorch's {want.dtype}"
    nan_got, nan_want = np.isnan(got), np.isnan(want)
    if (nan_got != nan_want).any():
        i = np.argwhere(nan_got != nan_want)[0]
        return f"NaN pattern differs at {tuple(int(k) for k in i)}: {got[tuple(i)]} vs {want[tuple(i)]}"
    inf_want = np.isinf(want)
    if (np.isinf(got) != inf_want).any() or (got[inf_want] != want[inf_want]).any():
        i = np.argwhere((np.isinf(got) != inf_want) | (inf_want & (got != want)))[0]
        return f"Inf pattern differs at {tuple(int(k) for k in i)}: {got[tuple(i)]} vs {want[tuple(i)]}"
    finite = np.isfinite(want)
    if not finite.any():
        return None
    rtol, atol = TOLERANCES[dtype]
    g, w = got[finite].astype(np.float64), want[finite].astype(np.float64)
    scale = 1.0 + np.abs(w).max()
    err = np.abs(g - w)
    bad = err > atol * scale + rtol * np.abs(w)
    if bad.any():
        k = int(np.argmax(err))
        return f"max abs difference {err[k]:.3g} ({g[k]:.6g} vs {w[k]:.6g})"
    return None


def compare_program(prog, cr, torch):
    """A list of mismatch descriptions (empty when chainrule agrees with PyTorch), or None when
    PyTorch itself rejects the program's backward pass (then there is nothing to compare)."""
    inputs = [a for _, a in prog.inputs]
    source = prog.source()
    try:
        want_out, want_grad = run_program(source, torch, inputs, prog.weights)
    except RuntimeError:
        return None
    try:
        got_out, got_grad = run_program(source, cr, inputs, prog.weights)
    except Exception as e:  # chainrule rejected a program PyTorch runs
        return [f"chainrule raised {type(e).__name__}: {str(e).splitlines()[0][:160]}"]
    found = []
    for i, (g, w) in enumerate(zip(got_out, want_out)):
        d = difference(g, w, prog.dtype)
        if d:
            found.append(f"output {prog.outputs[i]}: {d}")
    for (name, _), g, w in zip(prog.inputs, got_grad, want_grad):
        d = difference(g, w, prog.dtype)
        if d:
            found.append(f"gradient of {name}: {d}")
    return found
