"""Random programs: a few leaf inputs and 1-30 lines, each one op from op_table on earlier nodes.

A program is Python source, ``def program(m, x0, x1, ...)``, that runs unchanged with ``m`` bound
to chainrule or to PyTorch. The generator proposes each line and keeps it only if PyTorch (the
oracle) accepts it, so every program is valid PyTorch; whatever chainrule does with it is then
compared. Shapes include 0- and 1-size dimensions and broadcasting; nodes are reused freely.
"""
import re

import numpy as np

from .known_differences import known_difference
from .op_table import BINARY, MATMUL, UNARY

MAX_ELEMENTS = 256
EDGE_VALUES = [0.0, 1.0, -1.0, 1e-4, -1e-4, 0.5, -0.5, 2.0, 30.0, -30.0]


class Program:
    def __init__(self, dtype):
        self.dtype = dtype           # "float32" or "float64"
        self.inputs = []             # (name, ndarray)
        self.lines = []              # (name, expression)
        self.outputs = []            # names
        self.weights = []            # an upstream gradient per output

    def source(self):
        args = ", ".join(["m"] + [n for n, _ in self.inputs])
        body = [f"    {n} = {e}" for n, e in self.lines]
        return "\n".join([f"def program({args}):", "    F = m.nn.functional"] + body
                         + [f"    return [{', '.join(self.outputs)}]"])

    def ops(self):
        return " ".join(e for _, e in self.lines)


def draw_values(rng, shape, dtype):
    """Normal values mixed with the edges of op domains (0, +-1, tiny, large) and ties."""
    n = int(np.prod(shape, dtype=np.int64))
    v = rng.standard_normal(n) * rng.choice([0.5, 1.0, 3.0])
    pick = rng.random(n)
    edges = rng.choice(EDGE_VALUES, n)
    v = np.where(pick < 0.2, edges, v)
    if n > 1:
        ties = rng.random(n) < 0.1
        v[ties] = v[rng.integers(0, n, int(ties.sum()))]
    v = np.round(v, 4) if rng.integers(2) else v
    return v.astype(dtype).reshape(shape)


def random_shape(rng, max_ndim=4):
    ndim = int(rng.integers(0, max_ndim + 1))
    return tuple(int(rng.choice([0, 1, 1, 2, 3, 4, 5], p=[.04, .16, .16, .22, .2, .12, .1]))
                 for _ in range(ndim))


def partner_shape(rng, shape):
    """A shape that broadcasts with ``shape``: some leading dims dropped, some set to 1."""
    kind = rng.integers(4)
    if kind == 0:
        return tuple(shape)
    out = list(shape[int(rng.integers(0, len(shape) + 1)):])
    out = [1 if rng.random() < 0.3 else d for d in out]
    if kind == 3:
        out = [1] * int(rng.integers(1, 3)) + out
    return tuple(out)


def generate(rng, torch, allowed=None, max_lines=30, allow_nan=False):
    """A random Program whose lines PyTorch runs; ``allowed``: op names to draw from.
    Lines whose value holds a NaN are dropped unless ``allow_nan`` (see known_differences)."""
    dtype = "float32" if rng.integers(2) else "float64"
    prog = Program(dtype)
    values = {}                                   # name -> torch tensor (for shapes, probing)

    def new_input(shape):
        name = f"x{len(prog.inputs)}"
        arr = draw_values(rng, shape, dtype)
        prog.inputs.append((name, arr))
        values[name] = torch.tensor(arr)
        return name

    new_input(random_shape(rng))
    unary = [(n, f) for n, f in UNARY if allowed is None or n in allowed]
    binary = [(n, f) for n, f in BINARY if allowed is None or n in allowed]
    use_matmul = allowed is None or "matmul" in allowed
    target = int(rng.integers(1, max_lines + 1))
    tries = 0
    while len(prog.lines) < target and tries < 20 * target:
        tries += 1
        names = list(values)
        a = names[-1] if rng.random() < 0.5 else names[int(rng.integers(len(names)))]
        sa = tuple(values[a].shape)
        kind = rng.random()
        if kind < 0.1 and use_matmul and sa:
            b = new_input((sa[-1], int(rng.integers(0, 4))) if rng.integers(3) else sa[-1:])
            expr = str(rng.choice(MATMUL)).format(a, b)
        elif kind < 0.4 and binary:
            _, make = binary[int(rng.integers(len(binary)))]
            fits = [n for n in names if n != a and _broadcasts(sa, tuple(values[n].shape))]
            if fits and rng.random() < 0.5:
                b = fits[int(rng.integers(len(fits)))]
            else:
                b = new_input(partner_shape(rng, sa))
            tmpl = make(rng, (sa, tuple(values[b].shape)))
            expr = tmpl and tmpl.format(a, b)
        elif unary:
            _, make = unary[int(rng.integers(len(unary)))]
            tmpl = make(rng, (sa,))
            expr = tmpl and tmpl.format(a)
        else:
            continue
        if not expr or known_difference(expr, values, a):
            continue
        name = f"v{len(prog.lines)}"
        out = _probe(torch, expr, values, dtype)
        if out is None or (not allow_nan and bool(torch.isnan(out).any())):
            continue
        values[name] = out
        prog.lines.append((name, expr))
    if not prog.lines:
        return None
    used = set(re.findall(r"\bv\d+\b", " ".join(e for _, e in prog.lines)))
    last = prog.lines[-1][0]
    loose = [n for n, _ in prog.lines[:-1] if n not in used]
    prog.outputs = loose[-2:] + [last]
    prog.weights = [np.round(rng.standard_normal(tuple(values[n].shape)), 2).astype(dtype)
                    for n in prog.outputs]
    return prog


def _broadcasts(a, b):
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


def _probe(torch, expr, values, dtype):
    """PyTorch's value of ``expr``, or None when PyTorch rejects it or it is unsuitable."""
    import warnings
    env = {"m": torch, "F": torch.nn.functional, **values}
    try:
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = eval(expr, env)
    except Exception:
        return None
    if not isinstance(out, torch.Tensor) or not out.is_floating_point():
        return None
    if out.numel() > MAX_ELEMENTS or str(out.dtype) != f"torch.{dtype}":
        return None
    return out
