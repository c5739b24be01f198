"""A replay written out as straight-line Python: ``generate(graph)`` turns a ``Graph`` into one
function whose body calls each recorded op's ``forward`` (and, at a ``backward()`` event, each
``backward``) in the order ``Graph.run`` would, with every value in a local variable.

``Graph.interpret`` is the readable form: it walks lists of ops, gathers arguments from a table
of values and, in a backward, keeps the engine's table of pending gradients and dependency
counts. All of that is fixed once a recording is made (the same ops, the same sources, the
same order), so here it is decided once, while the source is written; what is left at run time
is the ops' own work and a few tests per value (a gradient's shape and dtype, as the engine
undoes a broadcast or a cast). The numbers are the interpreter's bit for bit: the same calls on
the same arrays, gradients summed in the same order (``tests/compile`` compares them).

The order of a backward walk is the engine's, simulated here on the recorded graph. It depends
on which gradients an op's backward returns as None, which is fixed for an op's arguments in
practice (a needed gradient is an array) but not promised; so ``Graph`` runs its interpreter
once more with the walk watched (``Graph._walks``) and switches to the written form only if
every walk went as simulated.
"""
import collections

import numpy as np

from ..autograd.engine import POST_ACCUMULATE_HOOKS, accumulate_grads, undo_broadcast
from ..autograd.tensor_base import make_tensor
from ..backend import array_module
from ..ops.activation import ReLU
from ..ops.linear import Linear, LinearChain
from .steps import Backward

# False: every replay is interpreted (``Graph.interpret``), the form the tests compare with
ENABLED = True


class _Source:
    """Lines of Python with the constants they name."""

    def __init__(self):
        self.lines = []
        self.names = {}

    def const(self, prefix, value):
        name = f"{prefix}{len(self.names)}"
        self.names[name] = value
        return name

    def emit(self, line, depth=1):
        self.lines.append("    " * depth + line)


def simulate_walk(graph, plan):
    """The ops ``Graph.backward`` runs over ``plan`` (seeds, starts, deps), in its order, when
    every needed gradient is an array."""
    seeds, starts, deps = plan
    backward_plan = graph.backward_plan
    has_grads = {i for i, _ in seeds}
    deps = dict(deps)
    ready = [i for i in starts if i not in deps and i in has_grads]
    order = []
    while ready:
        i = ready.pop()
        targets = backward_plan[i][3]
        order.append(i)
        for pos, leaf, where, nr, shape, dtype in targets:
            if leaf:
                continue
            has_grads.add(where)
            deps[where] -= 1
            if deps[where] == 0:
                ready.append(where)
    return order


def _forward_lines(src, graph, k, values, with_ctx):
    """Op ``k``'s forward: its ctx, the call and where its outputs go."""
    cls, forward, gather, single, grad_marks, multi, out_at, bump = graph.forward_plan[k]
    ctx = f"c{k}"
    src.emit(f"{ctx} = new({src.const('C', cls)})")
    if grad_marks is not None:
        src.emit(f"{ctx}.inputs = {src.const('M', grad_marks)}")
    args = "".join(", " + values[s] for s in graph.ops[k].sources)
    src.emit(f"o = {src.const('F', forward)}({ctx}{args})")
    if multi:
        names = [f"v{s}" for s in out_at]
        for s in out_at:
            values[s] = f"v{s}"
        targets = ", ".join(names) + ("," if len(names) == 1 else "")
        src.emit(f"{targets} = [as_array(x) for x in o]")
    else:
        values[out_at] = f"v{out_at}"
        src.emit(f"v{out_at} = o if type(o) is ndarray else as_array(o)")
    for t in bump:
        src.emit(f"{src.const('T', t)}._version += 1")
    with_ctx.append(ctx)


class _Walk:
    """The gradient variables of one backward walk: ``g{op}_{output}`` per op output, made
    (and set to None) where first named, and ``l{k}`` per leaf."""

    def __init__(self, src):
        self.src, self.names = src, {}

    def grad(self, i, nr):
        if (i, nr) not in self.names:
            self.names[(i, nr)] = f"g{i}_{nr}"
            self.src.emit(f"g{i}_{nr} = None")
        return self.names[(i, nr)]


def _walk_lines(src, graph, walk, order, ctx):
    """The engine's walk over the ops of ``order``: each op's backward on its outputs'
    gradients (``ctx(i)`` names op i's ctx), each argument's gradient brought to the shape and
    dtype it had and summed into its variable, in the interpreter's order."""
    plan = graph.backward_plan
    for k in range(len(graph.leaves)):
        src.emit(f"l{k} = None")
    for i in order:
        backward, n_out, out_meta, targets = plan[i]
        outs = [walk.grad(i, nr) for nr in range(n_out)]
        call = f"{src.const('B', backward)}({ctx(i)}, "
        if n_out > 1:
            call += f"*zero_none(({', '.join(outs)},), {src.const('O', out_meta)}))"
        else:
            call += f"{outs[0]})"
        src.emit(f"r = {call}")
        src.emit("if type(r) is not tuple: r = (r,)")
        for pos, leaf, where, nr, shape, dtype in targets:
            var = f"l{where}" if leaf else walk.grad(where, nr)
            src.emit(f"x = r[{pos}]")
            src.emit("if x is not None:")
            s, d = src.const("S", shape), src.const("D", dtype)
            src.emit(f"if x.shape != {s}: x = undo_broadcast(x, {s})", 2)
            src.emit(f"if x.dtype is not {d} and x.dtype != {d}: x = x.astype({d})", 2)
            src.emit(f"{var} = x if {var} is None else {var} + x", 2)
        for nr in range(n_out):   # the interpreter drops a node's gradients once it ran
            src.emit(f"{outs[nr]} = None")


def _backward_lines(src, graph, event, values, leaf_tensors):
    """A ``backward()`` event: dL/droot = 1 walked back over the ops in the simulated order,
    then the leaves' gradients accumulated into ``.grad``."""
    seeds = event.plan[0][:1]     # one root: Graph.backward zips the seeds with (dL/dL,)
    order = simulate_walk(graph, event.plan)
    walk = _Walk(src)
    root = values[event.root]
    shape, dtype = graph.root_metas[event.root]
    one = src.const("ONE", np.ones(shape, dtype))    # dL/dL, copied: np.ones costs 0.6 us
    src.emit(f"seed = {one}.copy() if type({root}) is ndarray else "
             f"array_module({root}).ones({root}.shape, dtype={root}.dtype)")
    for i, nr in seeds:
        var = walk.grad(i, nr)
        src.emit(f"{var} = seed if {var} is None else {var} + seed")
    _walk_lines(src, graph, walk, order, lambda i: f"c{i}")
    _accumulate_lines(src, graph, leaf_tensors)
    return order


def generate_backward(graph):
    """(function, simulated order) for the backward of the graph's node,
    ``CompiledFunctionBackward``: ``backward(ctxs, grads)``, the gradients of the node's outputs
    (none of them None) to those of its inputs, as ``Graph.backward`` returns them."""
    src = _Source()
    walk = _Walk(src)
    order = simulate_walk(graph, graph.plan)
    for k, (i, nr) in enumerate(graph.plan[0]):
        var = walk.grad(i, nr)
        src.emit(f"{var} = grads[{k}] if {var} is None else {var} + grads[{k}]")
    _walk_lines(src, graph, walk, order, lambda i: f"ctxs[{i}]")
    leaves = "".join(f"l{k}, " for k in range(len(graph.leaves)))
    src.emit(f"return ({leaves})")
    return _compiled("backward(ctxs, grads)", src, len(graph.ops)), order


def _accumulate_lines(src, graph, leaf_tensors):
    """The leaves' gradients into ``.grad``: where every leaf's ``.grad`` is None, no hook is
    set, and each gradient is its own writeable array of the leaf's dtype (a step after
    ``zero_grad``), each becomes ``.grad`` as it is, which is what ``accumulate_grads`` would
    do; otherwise ``accumulate_grads`` itself."""
    n = len(leaf_tensors)
    if not n:
        return
    owned = []
    for k, t in enumerate(leaf_tensors):
        d = src.const("D", graph.leaf_dtypes[k])
        owned.append(f"(l{k} is None or {t}.grad is None and not {t}._hooks and l{k}.base is None"
                     f" and l{k}.dtype is {d} and getattr(l{k}.flags, 'writeable', True))")
    grads = ", ".join(f"l{k}" for k in range(n))
    distinct = (f" and len({{id(g) for g in ({grads}) if g is not None}}) == "
                f"sum(g is not None for g in ({grads}))") if n > 1 else ""
    src.emit(f"if not post_hooks[0] and {' and '.join(owned)}{distinct}:")
    for k, t in enumerate(leaf_tensors):
        src.emit(f"if l{k} is not None: {t}.grad = make_tensor(l{k})", 2)
    src.emit("else:")
    pairs = ", ".join(f"({leaf_tensors[k]}, l{k})" for k in range(n))
    src.emit(f"accumulate_grads([p for p in ({pairs}{',' if n == 1 else ''}) "
             f"if p[1] is not None])", 2)


def generate(graph):
    """(replay function, {backward event index: simulated order}) for ``graph``.

    The function takes the call's input tensors and whether to keep the ops' ctxs (for the
    graph's node); it returns (ctxs or None, {slot: value} of the output slots)."""
    src = _Source()
    values = {}
    for slot, pos in graph.input_slots:
        values[slot] = f"v{slot}"
        src.emit(f"v{slot} = args[{pos}].array")
    for slot, t in graph.reads:
        values[slot] = f"v{slot}"
        src.emit(f"v{slot} = {src.const('P', t)}.array")
    for slot, getter in graph.rng_slots:
        values[slot] = f"v{slot}"
        src.emit(f"v{slot} = {src.const('R', getter)}()")
    for slot, value in enumerate(graph.base):
        if slot not in values and graph.kinds[slot][0] == "const":
            values[slot] = src.const("K", value)
    leaf_tensors = []
    for k, (kind, what) in enumerate(graph.leaf_tensor):
        leaf_tensors.append(f"args[{what}]" if kind == "input"
                            else src.const("L", graph.leaf_params[k]))
    ctxs, orders = [], {}
    chains = _linear_chains(graph)
    covered = {k for first, (last, _) in chains.items() for k in range(first + 1, last + 1)}
    bounds = [0] + [e.at for e in graph.events] + [len(graph.ops)]
    for n, (a, b) in enumerate(zip(bounds, bounds[1:])):
        for k in range(a, b):
            if k in covered:
                continue
            if k in chains:
                last, layers = chains[k]
                x = values[graph.ops[k].sources[0]]
                params = "".join(f", {values[w]}, {values[bias]}" for w, bias, _ in layers)
                chain = LinearChain(relu for _, _, relu in layers)
                out = graph.ops[last].out_slot
                values[out] = f"v{out}"
                src.emit(f"v{out} = {src.const('LC', chain)}({x}{params})")
                continue
            _forward_lines(src, graph, k, values, ctxs)
        if n < len(graph.events):
            event = graph.events[n]
            if type(event) is Backward:
                orders[n] = _backward_lines(src, graph, event, values, leaf_tensors)
            else:
                args = "".join(f"*{src.const('A', event.args)}" if event.args else "")
                kwargs = f"**{src.const('W', event.kwargs)}" if event.kwargs else ""
                sep = ", " if args and kwargs else ""
                src.emit(f"{src.const('E', event.fn)}({args}{sep}{kwargs})")
    outs = ", ".join(f"{s}: {values[s]}" for s in dict.fromkeys(graph.output_slots)
                     if graph.kinds[s][0] == "op")
    # an inference graph (the only kind with fused ops) has no node to hand its ctxs to
    kept = "None" if chains else f"([{', '.join(ctxs)}] if keep_ctxs else None)"
    src.emit(f"return {kept}, {{{outs}}}")
    return _compiled("replay(args, keep_ctxs)", src, len(graph.ops)), orders


def _compiled(signature, src, n_ops):
    """The function ``def {signature}:`` with ``src``'s lines as its body, its constants and
    helpers bound; its text in ``.source``."""
    body = "\n".join(src.lines)
    code = f"def {signature}:\n{body}\n"
    namespace = dict(src.names, new=object.__new__, ndarray=np.ndarray, as_array=_as_array(),
                     undo_broadcast=undo_broadcast, accumulate_grads=accumulate_grads,
                     array_module=array_module, zero_none=zero_none,
                     post_hooks=POST_ACCUMULATE_HOOKS, make_tensor=make_tensor)
    name = signature.split("(")[0]
    exec(compile(code, f"<cr.compile {name} of {n_ops} ops>", "exec"), namespace)
    fn = namespace[name]
    fn.source = code
    return fn


def _linear_chains(graph):
    """{k: (last op, [(weight slot, bias slot, relu)])} for each run of ops from op k that is
    a chain of Linear layers, each but maybe the last followed by a ReLU, each output read only
    by the next op, in a graph recorded without gradients (an inference replay: no ctx is kept
    for a backward). Such a run is one call, an ``ops.linear.LinearChain``: a Linear -> ReLU pair
    makes the bias and the ReLU in one pass, and a chain of a few rows runs kernel after kernel
    without an op's bookkeeping between them. A lone Linear stays an op."""
    if graph.events or any(op.grad_marks is not None for op in graph.ops):
        return {}
    ops = graph.ops
    uses = collections.Counter(s for op in ops for s in op.sources)
    uses.update(graph.output_slots)

    def linear(k):
        return (k < len(ops) and ops[k].cls is Linear and not ops[k].multi
                and len(ops[k].sources) == 3)

    def reads_only(k, slot):    # op k exists, reads only ``slot``'s value, the one reader
        return k < len(ops) and list(ops[k].sources[:1]) == [slot] and uses[slot] == 1

    chains, k = {}, 0
    while k < len(ops):
        first, layers = k, []
        while linear(k) and (not layers or reads_only(k, ops[k - 1].out_slot)):
            _, w, bias = ops[k].sources
            relu = (k + 1 < len(ops) and ops[k + 1].cls is ReLU
                    and list(ops[k + 1].sources) == [ops[k].out_slot]
                    and uses[ops[k].out_slot] == 1)
            layers.append((w, bias, relu))
            k += 2 if relu else 1
        if len(layers) > 1 or layers and layers[0][2]:
            chains[first] = (k - 1, layers)
        k = max(k, first + 1)
    return chains


def _as_array():
    from .graph import _as_array as as_array   # graph imports this module: bound late
    return as_array


def zero_none(grads, out_meta):
    """A multi-output op's output gradients with None made zeros (its backward takes one
    array per output), for both forms of the replay."""
    if all(g is not None for g in grads):
        return grads
    made = array_module(next(g for g in grads if g is not None))
    return [made.zeros(s, dt) if g is None else g for g, (s, dt) in zip(grads, out_meta)]
