"""``draw_graph``: the computational graph behind a tensor, with each node's value and gradient.

    x = cr.tensor(-2.0, requires_grad=True); y = cr.tensor(5.0, requires_grad=True)
    z = cr.tensor(-4.0, requires_grad=True)
    q = x + y
    f = q * z
    g = cr.viz.draw_graph(f)        # in Jupyter the graph appears inline
    g.save("graph.svg"); g.save("graph.png")

The walk goes from ``tensor.grad_fn`` back through each node's ``inputs`` (iteratively, so graphs
of any depth work). Every op node shows its operation, the shape of its output and, for small
tensors, the output's value; leaves show their value the same way.

Gradients shown are d(tensor)/d(node) for every node, so the lecture workflow works either way:

* drawn before ``backward()`` (or after ``backward(retain_graph=True)``): computed here by
  ``cr.autograd.grad`` with ``retain_graph=True``; nothing is accumulated into any ``.grad`` and
  the graph stays usable. For a non-scalar tensor they are those of ``tensor.sum()``.
* drawn after a plain ``backward()``: read from what that backward left. It freed the saved
  values (so a second ``backward()`` raises, as in PyTorch) but kept each node's ``inputs`` (and
  with them every intermediate value) and the gradient each op output received, when it has at
  most ``autograd.engine.KEPT_GRAD_SIZE`` (64) elements. An op output shows that received
  gradient (for a non-scalar tensor, the one seeded by ``backward(gradient=...)``); a leaf shows
  its ``.grad``.
  ``.grad`` accumulates, so it is d(tensor)/d(leaf) of this graph only when this backward is
  the only one added into it since it was last zeroed (``optimizer.zero_grad()``); after
  several backwards into the same leaves (gradient accumulation) it is their sum, so draw such a
  graph before backward, where the gradients are computed for this graph alone. A graph only
  partly freed (an earlier backward went through part of it) cannot be drawn with gradients.

Names come from ``names={"x": x, ...}``, from ``module.named_parameters()``, or, by default, from
the caller's local variables that hold tensors of the graph.

Layout: Graphviz ``dot`` when it is installed (``engine="auto"``), otherwise a pure-Python layered
layout (longest-path layers, barycentre ordering) rendered to SVG text directly and to PNG with
matplotlib. Graphs with more than ``max_nodes`` nodes are summarised: ops collapsed into the module
that owns them when ``module`` is given, or straight chains of ops collapsed into one node.
"""
import re
import inspect
import shutil

import numpy as np

from ..tensor import Tensor
from ._figure import write_atomic
from .graph_layout import layout
from .graph_node import Node
from .graph_render import render_png, render_svg, run_dot, to_dot
from .graph_summary import module_groups, summarise
from ..autograd.tensor_base import make_tensor


class Graph:
    """A drawn computational graph: ``nodes`` (list of ``Node``), ``edges`` (list of (src, dst)
    node ids, one per use of a tensor), ``source`` (the DOT text); ``svg()``, ``png()``,
    ``save(path)`` (.svg, .png or .dot) and inline display in Jupyter."""

    def __init__(self, nodes, edges, engine, title=None, summarised=False, total_nodes=None):
        self.nodes = nodes
        self.edges = edges
        self.engine = engine
        self.title = title
        self.summarised = summarised
        self.total_nodes = len(nodes) if total_nodes is None else total_nodes
        self._svg = None

    def node(self, name_or_id):
        """The node with that variable name (or id)."""
        for n in self.nodes:
            if n.name == name_or_id or n.id == name_or_id:
                return n
        raise KeyError(f"draw_graph: no node named {name_or_id!r}; names: "
                       f"{[n.name for n in self.nodes if n.name]}")

    @property
    def source(self):
        return to_dot(self)

    def svg(self):
        if self._svg is None:
            if self.engine == "dot":
                self._svg = run_dot(self.source, "svg").decode("utf-8")
            else:
                self._svg = render_svg(self, layout(self))
        return self._svg

    def png(self, dpi=110):
        if self.engine == "dot":
            return run_dot(self.source, "png", dpi)
        return render_png(self, layout(self), dpi)

    def _repr_svg_(self):
        return self.svg()

    def save(self, path):
        path = str(path)
        suffix = path.rsplit(".", 1)[-1].lower()
        if suffix == "svg":
            return write_atomic(path, self.svg())
        if suffix == "png":
            return write_atomic(path, self.png())
        if suffix in ("dot", "gv"):
            return write_atomic(path, self.source)
        raise ValueError(f"Graph.save: unknown file type {path!r}; use .svg, .png or .dot")

    def __repr__(self):
        return (f"<Graph: {len(self.nodes)} nodes, {len(self.edges)} edges, engine={self.engine}"
                f"{', summarised' if self.summarised else ''}>")


def draw_graph(tensor, show_values=True, show_grads=True, names=None, module=None,
               max_nodes=80, max_values=6, engine="auto"):
    """Draw the computational graph that produced ``tensor``.

    Args:
        tensor: the output (usually a scalar loss) whose graph is drawn.
        show_values: label nodes holding at most ``max_values`` elements with their values.
        show_grads: label them with d(tensor)/d(node) too (computed here, or read from what a
            plain backward left; see the module doc).
        names: ``{name: tensor}``; default: ``module``'s parameter names and the caller's locals.
        module: a ``cr.nn.Module``: names its parameters and, for big graphs, groups ops by layer.
        max_nodes: more nodes than this are summarised.
        engine: "dot" (Graphviz), "python" (built-in layout) or "auto" (dot if installed).
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"draw_graph: expected a Tensor, got {type(tensor).__name__}")
    if engine not in ("auto", "dot", "python"):
        raise ValueError(f"draw_graph: engine must be 'auto', 'dot' or 'python', got {engine!r}")
    if engine == "auto":
        engine = "dot" if shutil.which("dot") else "python"
    elif engine == "dot" and not shutil.which("dot"):
        raise RuntimeError("draw_graph(engine='dot'): the Graphviz 'dot' program is not installed "
                           "(apt-get install graphviz), use engine='python'")
    labels = {}
    if names is None:
        frame = inspect.currentframe().f_back
        labels.update({id(v): k for k, v in frame.f_locals.items()
                       if isinstance(v, Tensor) and not k.startswith("_")})
        del frame
    else:
        labels.update({id(v): k for k, v in names.items()})
    module_of_param = {}
    if module is not None:
        for pname, p in module.named_parameters():
            labels[id(p)] = pname
            module_of_param[id(p)] = pname.rsplit(".", 1)[0] if "." in pname else ""

    leaves, ops, outputs, edges = _walk(tensor)
    grads = _gradients(tensor, leaves, ops, outputs) if show_grads and tensor.requires_grad \
        else {}
    nodes, node_of = [], {}

    def small(a):
        return a if show_values and a is not None and a.size <= max_values else None

    for t in leaves:
        is_param = id(t) in module_of_param or type(t).__name__ == "Parameter"
        n = Node(f"n{len(nodes)}", "param" if is_param else "leaf", "leaf", labels.get(id(t)),
                 t.shape, small(t.array), _small_grad(grads.get(id(t)), max_values))
        node_of[("t", id(t))] = n
        nodes.append(n)
    for fn in ops:
        outs = outputs[fn]
        t = outs.get(0, next(iter(outs.values())))
        n = Node(f"n{len(nodes)}", "op", _op_name(fn), labels.get(id(t)), t.shape,
                 small(t.array), _small_grad(grads.get(id(t)), max_values))
        node_of[("f", id(fn))] = n
        nodes.append(n)
    root = node_of[("f", id(tensor.grad_fn))] if tensor.grad_fn is not None else node_of[
        ("t", id(tensor))]
    root.root = True
    edges = [(node_of[a].id, node_of[b].id) for a, b in edges]
    total = len(nodes)
    if total <= max_nodes:
        return Graph(nodes, edges, engine)
    groups = module_groups(ops, node_of, module_of_param) if module is not None else None
    nodes, edges = summarise(nodes, edges, max_nodes, groups)
    return Graph(nodes, edges, engine, title=f"summary of a {total}-node graph", summarised=True,
                 total_nodes=total)


def _walk(tensor):
    """Leaves, op nodes, the output tensors of each op, and the edges, all in forward order
    (inputs before the ops that use them), found by an iterative post-order depth-first walk
    over ``grad_fn.inputs``."""
    leaves, ops, outputs, edges = [], [], {}, []
    if tensor.grad_fn is None:
        return [tensor], [], {}, []
    seen_leaves = set()
    root = tensor.grad_fn
    outputs[root] = {tensor._output_nr: tensor}
    seen = {root}
    stack = [(root, _inputs_of(root), 0)]
    while stack:
        fn, inputs, i = stack.pop()
        if i == len(inputs):
            ops.append(fn)
            continue
        stack.append((fn, inputs, i + 1))
        t = inputs[i]
        src = t.grad_fn
        if src is None:
            if id(t) not in seen_leaves:
                seen_leaves.add(id(t))
                leaves.append(t)
            edges.append((("t", id(t)), ("f", id(fn))))
            continue
        outputs.setdefault(src, {})[t._output_nr] = t
        edges.append((("f", id(src)), ("f", id(fn))))
        if src not in seen:
            seen.add(src)
            stack.append((src, _inputs_of(src), 0))
    return leaves, ops, outputs, edges


def _inputs_of(fn):
    # constants and tensors that need no gradient are None here and not part of the graph
    return [t for t in fn.inputs or () if t is not None]


def _gradients(tensor, leaves, ops, outputs):
    """{id(t): d(tensor)/d(t)} for the tensors of the graph: computed when no backward has freed
    it, read from what the backward left when one has."""
    freed = [fn for fn in ops if fn._freed]
    if not freed:
        return _computed_gradients(tensor, leaves, outputs)
    if len(freed) == len(ops):
        return _gradients_left_by_backward(leaves, outputs)
    raise RuntimeError(
        f"draw_graph: part of this graph (at {freed[0].node_name()}) was freed by an earlier "
        f"backward() through it, so its gradients belong to another output. Draw before that "
        f"backward(), call it with retain_graph=True, or pass show_grads=False.")


def _computed_gradients(tensor, leaves, outputs):
    """d(tensor.sum())/d(t) for every tensor of the graph, without touching any .grad."""
    from ..autograd import grad
    tensors = list(leaves) + [t for outs in outputs.values() for t in outs.values()]
    seed = None if tensor.array.size == 1 else make_tensor(np.ones_like(tensor.array))
    got = grad(tensor, tensors, grad_outputs=seed, retain_graph=True, allow_unused=True)
    return {id(t): g.array for t, g in zip(tensors, got) if g is not None}


def _gradients_left_by_backward(leaves, outputs):
    """The gradient each op output received in the backward that freed the graph (kept by the
    engine's ``free_node`` when small) and each leaf's ``.grad``."""
    got = {}
    for fn, outs in outputs.items():
        received = fn._grads_received
        for nr, t in outs.items():
            if received[nr] is not None:
                got[id(t)] = received[nr]
    for t in leaves:
        if t.grad is not None:
            got[id(t)] = t.grad.array
    return got


def _small_grad(g, max_values):
    # a copy: a leaf's .grad changes in place in later steps, the drawing should not
    return g.copy() if g is not None and g.size <= max_values else None


def _op_name(fn):
    return re.sub(r"Backward\d*$", "", fn.node_name())
