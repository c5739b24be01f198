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

Gradients shown are d(tensor)/d(node) for every node, computed by ``cr.autograd.grad`` with
``retain_graph=True``: nothing is accumulated into any ``.grad`` and the graph stays usable. So
draw before ``backward()``, or after ``backward(retain_graph=True)``; a plain ``backward()`` frees
the graph (as in PyTorch) and there is nothing left to draw. For a non-scalar tensor the gradients
are those of ``tensor.sum()``.

Names come from ``names={"x": x, ...}``, from ``module.named_parameters()``, or, by default, from
the caller's local variables that hold tensors of the graph.

Layout: Graphviz ``dot`` when it is installed (``engine="auto"``), otherwise a pure-Python layered
layout (longest-path layers, barycentre ordering) rendered to SVG text directly and to PNG with
matplotlib. Graphs with more than ``max_nodes`` nodes are summarised: ops collapsed into the module
that owns them when ``module`` is given, or straight chains of ops collapsed into one node.
"""
import html
import inspect
import shutil
import subprocess

import numpy as np

from ..tensor import Tensor
from ._figure import write_atomic

VALUE_COLOUR = "#1a7f37"   # values in green, gradients in red, as on the lecture slides
GRAD_COLOUR = "#c62828"
FILL = {"leaf": "#e3f2fd", "param": "#fff3e0", "op": "#f5f5f5", "group": "#ede7f6",
        "more": "#ffffff"}
STROKE = {"leaf": "#1e88e5", "param": "#fb8c00", "op": "#616161", "group": "#5e35b1",
          "more": "#9e9e9e"}


class Node:
    """One box of the drawing: a leaf tensor, an op (labelled with its output) or a group."""

    __slots__ = ("id", "kind", "op", "name", "shape", "value", "grad", "members", "root")

    def __init__(self, id, kind, op, name=None, shape=(), value=None, grad=None, members=1):
        self.id, self.kind, self.op, self.name = id, kind, op, name
        self.shape, self.value, self.grad, self.members = tuple(shape), value, grad, members
        self.root = False

    def __repr__(self):
        return f"Node({self.id}, {self.kind}, {self.op!r}, name={self.name!r}, shape={self.shape})"


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
                self._svg = _run_dot(self.source, "svg").decode("utf-8")
            else:
                self._svg = render_svg(self, layout(self))
        return self._svg

    def png(self, dpi=110):
        if self.engine == "dot":
            return _run_dot(self.source, "png", dpi)
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
        show_grads: label them with d(tensor)/d(node) too (computed here, see the module doc).
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
    grads = _gradients(tensor, leaves, outputs) if show_grads and tensor.requires_grad else {}
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
    graph = Graph(nodes, edges, engine, summarised=False)
    if len(nodes) > max_nodes:
        graph = summarise(graph, max_nodes, _module_groups(ops, node_of, module_of_param)
                          if module is not None else None)
    return graph


# -- walking the graph -------------------------------------------------------------------------
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
    d = fn.__dict__
    if d.get("_freed"):
        raise RuntimeError(
            f"draw_graph: the graph behind this tensor was freed by backward() (at "
            f"{fn.node_name()}). Draw before calling backward(), or call "
            f"backward(retain_graph=True) first; draw_graph computes the gradients itself.")
    # constants and tensors that need no gradient are None here and not part of the graph
    return [t for t in d.get("inputs") or () if t is not None]


def _gradients(tensor, leaves, outputs):
    """d(tensor.sum())/d(t) for every tensor of the graph, without touching any .grad."""
    from ..autograd import grad
    tensors = list(leaves) + [t for outs in outputs.values() for t in outs.values()]
    seed = None if tensor.array.size == 1 else Tensor._make(np.ones_like(tensor.array))
    got = grad(tensor, tensors, grad_outputs=seed, retain_graph=True, allow_unused=True)
    return {id(t): g.array for t, g in zip(tensors, got) if g is not None}


def _small_grad(g, max_values):
    return g if g is not None and g.size <= max_values else None


def _op_name(fn):
    name = fn.node_name()
    return name[:-len("Backward")] if name.endswith("Backward") else name


# -- summarising big graphs --------------------------------------------------------------------
def _module_groups(ops, node_of, module_of_param):
    """Group key per op node id: the module of a parameter it uses, else inherited from the op
    that feeds it (so an activation joins the layer before it)."""
    group = {}
    for fn in ops:   # forward order: an op's producers are grouped before it
        key = None
        producers = []
        for t in fn.__dict__.get("inputs") or ():
            if t is None:
                continue
            if id(t) in module_of_param and key is None:
                key = ("module", module_of_param[id(t)])
            elif t.grad_fn is not None:
                producers.append(node_of[("f", id(t.grad_fn))].id)
        if key is None and producers:
            key = group.get(producers[0])
        if key is not None:
            group[node_of[("f", id(fn))].id] = key
    return group


def summarise(graph, max_nodes, groups=None):
    """Collapse a big graph: by ``groups`` ({node id: key}) when given, else straight chains of
    ops; leaves then join the group they feed; past that, keep the nodes nearest the root."""
    nodes, edges = graph.nodes, graph.edges
    total = len(nodes)
    if groups is None:
        groups = _chain_groups(nodes, edges)
    nodes, edges = _contract(nodes, edges, groups)
    if len(nodes) > max_nodes:
        nodes, edges = _absorb_leaves(nodes, edges)
    if len(nodes) > max_nodes:
        nodes, edges = _keep_nearest_root(nodes, edges, max_nodes)
    return Graph(nodes, edges, graph.engine, title=f"summary of a {total}-node graph", summarised=True,
                 total_nodes=total)


def _adjacency(nodes, edges):
    preds = {n.id: [] for n in nodes}
    succs = {n.id: [] for n in nodes}
    for a, b in edges:
        succs[a].append(b)
        preds[b].append(a)
    return preds, succs


def _chain_groups(nodes, edges):
    """Ops in a straight line (one op feeding the next and nothing else) share a group."""
    by_id = {n.id: n for n in nodes}
    preds, succs = _adjacency(nodes, edges)
    group = {}
    for n in nodes:
        if n.kind != "op" or n.id in group:
            continue
        # walk up to the head of the chain this node belongs to
        head = n.id
        while True:
            op_preds = [p for p in set(preds[head]) if by_id[p].kind == "op"]
            if len(op_preds) == 1 and len(set(succs[op_preds[0]])) == 1:
                head = op_preds[0]
            else:
                break
        cur = head
        while True:
            group[cur] = ("chain", head)
            nxt = list(set(succs[cur]))
            if len(nxt) == 1 and by_id[nxt[0]].kind == "op" and nxt[0] not in group and \
                    len([p for p in set(preds[nxt[0]]) if by_id[p].kind == "op"]) == 1:
                cur = nxt[0]
            else:
                break
    return group


def _contract(nodes, edges, groups):
    members = {}
    for n in nodes:
        key = groups.get(n.id)
        if key is not None:
            members.setdefault(key, []).append(n)
    new_id = {}
    out = []
    made = {}
    for n in nodes:
        key = groups.get(n.id)
        if key is None or len(members[key]) == 1:
            if key is not None and key[0] == "module" and not n.name:
                n.name = key[1] or "(top level)"
            new_id[n.id] = n.id
            out.append(n)
            continue
        if key not in made:
            group = members[key]
            ops = [m.op for m in group]
            last = group[-1]   # nodes are in forward order: the last member makes the output
            kind, label = key
            g = Node(f"g{len(made)}", "group", _describe_ops(ops),
                     name=(label or "(top level)") if kind == "module" else None, shape=last.shape,
                value=last.value, grad=last.grad, members=sum(m.members for m in group))
            g.root = any(m.root for m in group)
            made[key] = g
            out.append(g)
        new_id[n.id] = made[key].id
    seen = set()
    new_edges = []
    for a, b in edges:
        e = (new_id[a], new_id[b])
        if e[0] != e[1] and e not in seen:
            seen.add(e)
            new_edges.append(e)
    return out, new_edges


def _describe_ops(ops):
    counts = {}
    for o in ops:
        counts[o] = counts.get(o, 0) + 1
    if len(ops) <= 3:
        return " → ".join(ops)
    return f"{len(ops)} ops: " + ", ".join(f"{k}×{v}" if v > 1 else k
                                          for k, v in list(counts.items())[:4]) + (
        ", …" if len(counts) > 4 else "")


def _absorb_leaves(nodes, edges):
    preds, succs = _adjacency(nodes, edges)
    absorbed = {n.id for n in nodes if n.kind in ("leaf", "param") and len(set(succs[n.id])) == 1
                and not n.root}
    extra = {}
    for a in absorbed:
        extra[succs[a][0]] = extra.get(succs[a][0], 0) + 1
    out = []
    for n in nodes:
        if n.id in absorbed:
            continue
        if n.id in extra:
            n.op = f"{n.op} (+{extra[n.id]} inputs)"
        out.append(n)
    return out, [(a, b) for a, b in edges if a not in absorbed]


def _keep_nearest_root(nodes, edges, max_nodes):
    preds, _ = _adjacency(nodes, edges)
    root = next(n.id for n in nodes if n.root)
    dist = {root: 0}
    order = [root]
    i = 0
    while i < len(order):
        for p in preds[order[i]]:
            if p not in dist:
                dist[p] = dist[order[i]] + 1
                order.append(p)
        i += 1
    keep = set(order[:max_nodes - 1])
    dropped = len(nodes) - len(keep)
    more = Node("more", "more", f"… {dropped} earlier nodes", members=dropped)
    out = [n for n in nodes if n.id in keep] + [more]
    new_edges = [(a, b) for a, b in edges if a in keep and b in keep]
    cut = {b for a, b in edges if a not in keep and b in keep}
    new_edges += [("more", b) for b in sorted(cut)]
    return out, new_edges


# -- labels ------------------------------------------------------------------------------------
def format_array(a):
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


# -- Graphviz ----------------------------------------------------------------------------------
def to_dot(graph):
    out = ["digraph chainrule {", '  rankdir=LR; bgcolor="white";',
           '  node [fontname="Helvetica", fontsize=11, margin="0.12,0.05"];',
           '  edge [color="#78909c", arrowsize=0.7];']
    if graph.title:
        out.append(f'  label="{graph.title}"; labelloc=t; fontname="Helvetica";')
    for n in graph.nodes:
        rows = []
        for text, colour, bold in label_lines(n):
            t = html.escape(text)
            t = f"<b>{t}</b>" if bold else t
            rows.append(f'<font color="{colour}">{t}</font>')
        shape = "box" if n.kind in ("leaf", "param", "group", "more") else "ellipse"
        style = "rounded,filled" if shape == "box" else "filled"
        if n.kind == "more":
            style += ",dashed"
        pen = 2.2 if n.root else 1.0
        out.append(f'  {n.id} [shape={shape}, style="{style}", fillcolor="{FILL[n.kind]}", '
                   f'color="{STROKE[n.kind]}", penwidth={pen}, label=<{"<br/>".join(rows)}>];')
    for a, b in graph.edges:
        out.append(f"  {a} -> {b};")
    out.append("}")
    return "\n".join(out) + "\n"


def _run_dot(source, fmt, dpi=None):
    cmd = ["dot", f"-T{fmt}"] + ([f"-Gdpi={dpi}"] if dpi else [])
    res = subprocess.run(cmd, input=source.encode("utf-8"), capture_output=True, timeout=60)
    if res.returncode != 0:
        raise RuntimeError(f"draw_graph: dot -T{fmt} failed: {res.stderr.decode()[:500]}")
    return res.stdout


# -- pure-Python layered layout ----------------------------------------------------------------
CHAR_W, LINE_H, PAD_X, PAD_Y = 6.3, 15.0, 10.0, 7.0
LAYER_GAP, NODE_GAP, MARGIN = 46.0, 16.0, 16.0


class Layout:
    """Box centres and sizes (``pos``: id -> (x, y, w, h)), edge polylines and the canvas size."""

    def __init__(self, pos, routes, width, height):
        self.pos, self.routes, self.width, self.height = pos, routes, width, height


def _box_size(n):
    lines = label_lines(n)
    w = max(len(t) for t, _, _ in lines) * CHAR_W + 2 * PAD_X
    h = len(lines) * LINE_H + 2 * PAD_Y
    return max(w, 48.0), h


def layout(graph, sweeps=8):
    """Layered drawing, left (inputs) to right (output).

    1. layers: longest path from the sources; then every source moves right to sit just before
       its earliest consumer;
    2. an edge spanning several layers gets a dummy point in each layer it crosses;
    3. barycentre ordering: sweep right and left, sorting each layer by the mean position of its
       neighbours in the previous layer (reduces crossings);
    4. coordinates: layers become columns as wide as their widest box, stacked and centred.
    """
    ids = [n.id for n in graph.nodes]
    by_id = {n.id: n for n in graph.nodes}
    preds, succs = _adjacency(graph.nodes, graph.edges)
    # 1. longest-path layering (Kahn order: iterative)
    indeg = {i: len(preds[i]) for i in ids}
    order = [i for i in ids if indeg[i] == 0]
    layer = {i: 0 for i in ids}
    k = 0
    while k < len(order):
        a = order[k]
        k += 1
        for b in succs[a]:
            layer[b] = max(layer[b], layer[a] + 1)
            indeg[b] -= 1
            if indeg[b] == 0:
                order.append(b)
    for i in ids:
        if not preds[i] and succs[i]:
            layer[i] = min(layer[b] for b in succs[i]) - 1
    # 2. dummy points on long edges
    chains = []
    members = {}
    for i in ids:
        members.setdefault(layer[i], []).append(i)
    up = {i: [] for i in ids}      # neighbour in the previous layer, for ordering
    down = {i: [] for i in ids}
    for e, (a, b) in enumerate(graph.edges):
        chain = [a]
        for L in range(layer[a] + 1, layer[b]):
            d = ("d", e, L)
            members.setdefault(L, []).append(d)
            up[d], down[d] = [], []
            chain.append(d)
        chain.append(b)
        for u, v in zip(chain, chain[1:]):
            down[u].append(v)
            up[v].append(u)
        chains.append(chain)
    layers = [members.get(L, []) for L in range(max(layer.values()) + 1)]
    # 3. barycentre sweeps
    rank = {v: r for col in layers for r, v in enumerate(col)}

    def sort_by(col, neighbours):
        keyed = []
        for r, v in enumerate(col):
            ns = neighbours[v]
            keyed.append((sum(rank[u] for u in ns) / len(ns) if ns else rank[v], r, v))
        keyed.sort(key=lambda x: (x[0], x[1]))
        for r, (_, _, v) in enumerate(keyed):
            rank[v] = r
        return [v for _, _, v in keyed]

    for s in range(sweeps):
        if s % 2 == 0:
            layers = [layers[0]] + [sort_by(col, up) for col in layers[1:]]
        else:
            layers = [sort_by(col, down) for col in layers[:-1]] + [layers[-1]]
    # 4. coordinates
    size = {i: _box_size(by_id[i]) for i in ids}
    col_w = [max([size[v][0] for v in col if v in size] or [10.0]) for col in layers]
    heights = [sum(size[v][1] if v in size else 6.0 for v in col) + NODE_GAP * max(len(col) - 1, 0)
               for col in layers]
    total_h = max(heights) + 2 * MARGIN
    pos = {}
    x = MARGIN
    for L, col in enumerate(layers):
        y = (total_h - heights[L]) / 2
        for v in col:
            w, h = size.get(v, (0.0, 6.0))
            pos[v] = (x + col_w[L] / 2, y + h / 2, w, h)
            y += h + NODE_GAP
        x += col_w[L] + LAYER_GAP
    routes = []
    for chain in chains:
        pts = [(pos[v][0], pos[v][1]) for v in chain]
        a, b = chain[0], chain[-1]
        pts[0] = (pos[a][0] + pos[a][2] / 2, pos[a][1])     # leave from the right side
        pts[-1] = (pos[b][0] - pos[b][2] / 2, pos[b][1])    # arrive on the left side
        routes.append(pts)
    box = {i: pos[i] for i in ids}
    return Layout(box, routes, x - LAYER_GAP + MARGIN, total_h)


def _smooth_path(pts):
    """SVG path through the points: horizontal-tangent cubic curves between them."""
    d = [f"M {pts[0][0]:.1f} {pts[0][1]:.1f}"]
    for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
        mx = (x0 + x1) / 2
        d.append(f"C {mx:.1f} {y0:.1f} {mx:.1f} {y1:.1f} {x1:.1f} {y1:.1f}")
    return " ".join(d)


def render_svg(graph, lay):
    title_h = 22.0 if graph.title else 0.0
    w, h = lay.width, lay.height + title_h
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{w:.0f}" height="{h:.0f}" '
           f'viewBox="0 0 {w:.0f} {h:.0f}" font-family="Helvetica, Arial, sans-serif" '
           f'font-size="11">',
           '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" '
           'markerHeight="7" orient="auto"><path d="M 0 0 L 10 5 L 0 10 z" fill="#78909c"/>'
           '</marker></defs>',
           f'<rect width="{w:.0f}" height="{h:.0f}" fill="white"/>']
    if graph.title:
        out.append(f'<text x="{w / 2:.1f}" y="16" text-anchor="middle" font-size="13">'
                   f'{html.escape(graph.title)}</text>')
    out.append(f'<g transform="translate(0 {title_h:.0f})">')
    for pts in lay.routes:
        out.append(f'<path d="{_smooth_path(pts)}" fill="none" stroke="#78909c" '
                   f'stroke-width="1.2" marker-end="url(#arrow)"/>')
    for n in graph.nodes:
        x, y, bw, bh = lay.pos[n.id]
        rx = bh / 2 if n.kind == "op" else 6
        dash = ' stroke-dasharray="4 3"' if n.kind == "more" else ""
        out.append(f'<rect x="{x - bw / 2:.1f}" y="{y - bh / 2:.1f}" width="{bw:.1f}" '
                   f'height="{bh:.1f}" rx="{rx:.1f}" fill="{FILL[n.kind]}" '
                   f'stroke="{STROKE[n.kind]}" stroke-width="{2.2 if n.root else 1}"{dash}/>')
        lines = label_lines(n)
        top = y - len(lines) * LINE_H / 2 + LINE_H * 0.75
        for j, (text, colour, bold) in enumerate(lines):
            weight = ' font-weight="bold"' if bold else ""
            out.append(f'<text x="{x:.1f}" y="{top + j * LINE_H:.1f}" text-anchor="middle" '
                       f'fill="{colour}"{weight}>{html.escape(text)}</text>')
    out.append("</g></svg>")
    return "\n".join(out) + "\n"


def render_png(graph, lay, dpi=110):
    from ._figure import figure_png, new_figure
    from matplotlib.patches import FancyBboxPatch, PathPatch, Polygon
    from matplotlib.path import Path

    title_h = 22.0 if graph.title else 0.0
    w, h = lay.width, lay.height + title_h
    px = 72.0   # layout units are points
    fig = new_figure(w / px, h / px, dpi=dpi)
    fig.set_layout_engine(None)
    ax = fig.add_axes((0, 0, 1, 1))
    ax.set_xlim(0, w)
    ax.set_ylim(h, 0)
    ax.axis("off")
    if graph.title:
        ax.text(w / 2, 12, graph.title, ha="center", va="center", fontsize=10)
    for pts in lay.routes:
        pts = [(x, y + title_h) for x, y in pts]
        verts, codes = [pts[0]], [Path.MOVETO]
        for (x0, y0), (x1, y1) in zip(pts, pts[1:]):
            mx = (x0 + x1) / 2
            verts += [(mx, y0), (mx, y1), (x1, y1)]
            codes += [Path.CURVE4] * 3
        ax.add_patch(PathPatch(Path(verts, codes), fill=False, edgecolor="#78909c", lw=1.0))
        x1, y1 = pts[-1]
        ax.add_patch(Polygon([(x1, y1), (x1 - 7, y1 - 3.5), (x1 - 7, y1 + 3.5)],
                             closed=True, color="#78909c"))
    for n in graph.nodes:
        x, y, bw, bh = lay.pos[n.id]
        y += title_h
        r = min(bh / 2, bw / 2) if n.kind == "op" else 6
        ax.add_patch(FancyBboxPatch((x - bw / 2 + r, y - bh / 2 + r), bw - 2 * r, bh - 2 * r,
                                    boxstyle=f"round,pad={r}", facecolor=FILL[n.kind],
                                    edgecolor=STROKE[n.kind], lw=2.0 if n.root else 0.9,
                                    linestyle="--" if n.kind == "more" else "-"))
        lines = label_lines(n)
        top = y - len(lines) * LINE_H / 2 + LINE_H / 2
        for j, (text, colour, bold) in enumerate(lines):
            ax.text(x, top + j * LINE_H, text, ha="center", va="center", fontsize=9.5,
                    color=colour, fontweight="bold" if bold else "normal")
    return figure_png(fig)
