"""``Node``: one box of a drawn graph, the lines of text it shows, and adjacency of a node list.

Shared by the summary (which makes group nodes), the layout (which sizes boxes by their text) and
the renderers (which write that text).
"""
import numpy as np

VALUE_COLOUR = "#1a7f37"   # values in green, gradients in red, as on the lecture slides
GRAD_COLOUR = "#c62828"


class Node:
    """One box of the drawing: a leaf tensor, an op (labelled with its output) or a group."""

    __slots__ = ("id", "kind", "op", "name", "shape", "value", "grad", "members", "root")

    def __init__(self, id, kind, op, name=None, shape=(), value=None, grad=None, members=1):
        self.id, self.kind, self.op, self.name = id, kind, op, name
        self.shape, self.value, self.grad, self.members = tuple(shape), value, grad, members
        self.root = False

    def __repr__(self):
        return f"Node({self.id}, {self.kind}, {self.op!r}, name={self.name!r}, shape={self.shape})"

def adjacency(nodes, edges):
    """Predecessor and successor lists, by node id, of a node/edge list."""
    preds = {n.id: [] for n in nodes}
    succs = {n.id: [] for n in nodes}
    for a, b in edges:
        succs[a].append(b)
        preds[b].append(a)
    return preds, succs


def format_array(a):
    """Compact text of a small array (4 significant digits for a scalar, 3 in an array)."""
    if a is None:
        return None
    a = np.asarray(a)
    if a.ndim == 0:
        return f"{a.item():.4g}"
    body = np.array2string(a, precision=3, separator=", ", suppress_small=True,
                           max_line_width=10_000, formatter={"float_kind": lambda v: f"{v:.3g}"})
    return " ".join(body.split())


def label_lines(n):
    """[(text, colour, bold)] for one node."""
    lines = []
    title = n.op if n.kind in ("op", "group", "more") else (n.name or "leaf")
    lines.append((title, "#000000", True))
    if n.kind in ("op", "group") and n.name:
        lines.append((n.name, "#37474f", False))
    if n.shape:
        lines.append(("shape (" + ", ".join(map(str, n.shape)) + ")", "#455a64", False))
    v = format_array(n.value)
    if v is not None:
        lines.append((f"value {v}", VALUE_COLOUR, False))
    g = format_array(n.grad)
    if g is not None:
        lines.append((f"grad {g}", GRAD_COLOUR, False))
    return lines
