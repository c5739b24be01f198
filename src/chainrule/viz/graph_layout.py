"""The pure-Python layered layout used when Graphviz is not installed: inputs on the left, the
output on the right, boxes sized by their text (see ``layout``)."""
from .graph_node import adjacency, label_lines

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
    preds, succs = adjacency(graph.nodes, graph.edges)
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
