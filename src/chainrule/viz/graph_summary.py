"""Summarising a big drawn graph: ops grouped by the module that owns them, or straight chains of
ops collapsed into one node; then leaves folded into the node they feed, and finally only the
nodes nearest the root kept, with one "… earlier nodes" box standing for the rest."""
from .graph_node import Node, adjacency


def module_groups(ops, node_of, module_of_param):
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


def summarise(nodes, edges, max_nodes, groups=None):
    """Collapse a big graph to at most ``max_nodes`` nodes; returns (nodes, edges).

    By ``groups`` ({node id: key}) when given, else straight chains of ops; leaves then join the
    group they feed; past that, keep the nodes nearest the root."""
    if groups is None:
        groups = _chain_groups(nodes, edges)
    nodes, edges = _contract(nodes, edges, groups)
    if len(nodes) > max_nodes:
        nodes, edges = _absorb_leaves(nodes, edges)
    if len(nodes) > max_nodes:
        nodes, edges = _keep_nearest_root(nodes, edges, max_nodes)
    return nodes, edges


def _chain_groups(nodes, edges):
    """Ops in a straight line (one op feeding the next and nothing else) share a group."""
    by_id = {n.id: n for n in nodes}
    preds, succs = adjacency(nodes, edges)
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
    """One node per group of two or more members (showing the last member's output), edges
    between groups deduplicated; ungrouped nodes kept as they are."""
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
    """A group's label: its ops in order when few, else counts of the first kinds."""
    counts = {}
    for o in ops:
        counts[o] = counts.get(o, 0) + 1
    if len(ops) <= 3:
        return " → ".join(ops)
    return f"{len(ops)} ops: " + ", ".join(f"{k}×{v}" if v > 1 else k
                                          for k, v in list(counts.items())[:4]) + (
        ", …" if len(counts) > 4 else "")


def _absorb_leaves(nodes, edges):
    """Leaves with one consumer disappear into it, which says how many inputs it absorbed."""
    preds, succs = adjacency(nodes, edges)
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
    """The ``max_nodes - 1`` nodes nearest the root (breadth first) and one box for the rest."""
    preds, _ = adjacency(nodes, edges)
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
