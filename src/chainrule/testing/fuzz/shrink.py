"""Shrink a mismatching program to the few lines that still show the mismatch, so the printed
reproducer is short enough to read (delta debugging, one line or one output at a time)."""
import copy
import re


def _refs(expr):
    return set(re.findall(r"\b[vx]\d+\b", expr))


def _without_line(prog, i):
    name = prog.lines[i][0]
    if any(name in _refs(e) for _, e in prog.lines[i + 1:]):
        return None
    out = copy.copy(prog)
    out.lines = prog.lines[:i] + prog.lines[i + 1:]
    keep = [k for k, o in enumerate(prog.outputs) if o != name]
    if not keep or not out.lines:
        return None
    out.outputs = [prog.outputs[k] for k in keep]
    out.weights = [prog.weights[k] for k in keep]
    return out


def _only_output(prog, k):
    out = copy.copy(prog)
    out.outputs, out.weights = [prog.outputs[k]], [prog.weights[k]]
    return out


def _drop_unused_inputs(prog):
    used = set().union(*(_refs(e) for _, e in prog.lines))
    out = copy.copy(prog)
    out.inputs = [(n, a) for n, a in prog.inputs if n in used]
    return out


def shrink(prog, still_fails, budget=200):
    """The smallest program found for which ``still_fails(program)`` holds."""
    changed = True
    while changed and budget > 0:
        changed = False
        candidates = [_only_output(prog, k) for k in range(len(prog.outputs))] \
            if len(prog.outputs) > 1 else []
        candidates += [_without_line(prog, i) for i in reversed(range(len(prog.lines)))]
        for cand in candidates:
            if cand is None:
                continue
            budget -= 1
            try:
                fails = still_fails(cand)
            except Exception:
                fails = False
            if fails:
                prog, changed = cand, True
                break
            if budget <= 0:
                break
    return _drop_unused_inputs(prog)
