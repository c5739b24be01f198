"""Run one program in both libraries and compare outputs and every input gradient.

Tolerances are per dtype and relative to the size of PyTorch's values; NaN must be NaN where
PyTorch has NaN, and an infinity the same infinity. A float32 difference where both libraries
agree in float64 and one of them differs from its own float64 result is decided by float32
rounding (a value that rounds to 1.0 or to 0.99999994, then decides a branch):
``rounding_decided`` tells those apart, so the fuzzer counts them separately.
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


def _labelled(prog, got, want, dtype):
    """``{label: description}`` of every output and input gradient that differs."""
    (got_out, got_grad), (want_out, want_grad) = got, want
    found = {}
    for name, g, w in zip(prog.outputs, got_out, want_out):
        d = difference(g, w, dtype)
        if d:
            found[f"output {name}"] = d
    for (name, _), g, w in zip(prog.inputs, got_grad, want_grad):
        d = difference(g, w, dtype)
        if d:
            found[f"gradient of {name}"] = d
    return found


def _run_in(prog, lib, dtype):
    """The program's (outputs, gradients) in ``lib`` with its inputs cast to ``dtype``, the
    results cast back to the program's dtype."""
    cast = (lambda a: None if a is None else a.astype(dtype))
    result = run_program(prog.source(), lib, [cast(a) for _, a in prog.inputs],
                         [cast(w) for w in prog.weights])
    return tuple([None if a is None else a.astype(prog.dtype) for a in part] for part in result)


def _amplified_rounding(prog, cr, torch):
    """Whether the first line whose float32 value differs between the libraries (beyond the
    tolerance) gives PyTorch's value in chainrule when fed PyTorch's operands: the op is right,
    and what it amplified was a last-bit difference upstream (every earlier line agreed)."""
    as_np = (lambda t: t.detach().numpy() if hasattr(t, "detach") else None)
    mine = {"m": cr, "F": cr.nn.functional}
    theirs = {"m": torch, "F": torch.nn.functional}
    for name, a in prog.inputs:
        mine[name], theirs[name] = cr.tensor(a.copy()), torch.tensor(a.copy())
    with torch.no_grad(), cr.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for name, expr in prog.lines:
            want, got = eval(expr, theirs), eval(expr, mine)
            if difference(as_np(got), as_np(want), "float32"):
                fed = {"m": cr, "F": cr.nn.functional}
                fed.update({k: cr.tensor(v.numpy().copy()) for k, v in theirs.items()
                            if isinstance(v, torch.Tensor)})
                return difference(as_np(eval(expr, fed)), as_np(want), "float32") is None
            mine[name], theirs[name] = got, want
    return False


def rounding_decided(prog, cr, torch, found):
    """Whether every mismatch in ``found`` (compare_program's list) of a float32 program is
    decided by float32 rounding. Either PyTorch's own float32 result there differs from its
    float64 result of the same program (on the same, exactly representable inputs): the
    float32 value is rounding noise (a cancellation of terms near 1e17) and comparing it means
    nothing. Or the libraries agree there in float64, and the first line where their float32
    values part is an op that, fed PyTorch's operands, gives PyTorch's value: a last-bit
    difference upstream was amplified (a value that rounds to 1.0 in one library and to
    0.99999994 in the other, then meets ``x ** inf``). Such cases are counted and printed
    apart, not hidden; an op wrong only in float32 fails both tests."""
    if prog.dtype != "float32" or not found:
        return False
    labels = [f.split(":", 1)[0] for f in found]
    try:
        torch64 = _run_in(prog, torch, np.float64)
        itself = _labelled(prog, _run_in(prog, torch, np.float32), torch64, "float32")
        rest = [label for label in labels if label not in itself]
        if not rest:
            return True
        wide = _labelled(prog, _run_in(prog, cr, np.float64), torch64, "float32")
        return not any(label in wide for label in rest) and _amplified_rounding(prog, cr, torch)
    except Exception:
        return False


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
    found = _labelled(prog, (got_out, got_grad), (want_out, want_grad), prog.dtype)
    return [f"{label}: {d}" for label, d in found.items()]
