"""The backward pass: the chain rule applied over the graph, in reverse topological order.

Iterative throughout (no recursion limit): one pass counts, for every node, how many consumers it
has inside the graph; then a stack of ready nodes is drained (Kahn's algorithm). A node is ready
when every consumer has handed it its gradient contribution, so each node's backward runs once,
with the sum of all contributions. Gradients live in a table keyed by node and are dropped as soon
as they are consumed; each node's saved arrays are freed after its backward unless
``retain_graph``.
"""
import numpy as np

from ..backend import array_module, owned_copy

from . import anomaly
from .tensor_base import TensorBase, make_tensor


def undo_broadcast(grad, shape):
    """Sum ``grad`` back to ``shape``: the adjoint of broadcasting, done for every op here only."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    if lead < 0:
        return grad.reshape(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, n in enumerate(shape) if n == 1 and grad.shape[lead + i] != 1)
    if axes:
        grad = grad.sum(axis=axes)
    return grad.reshape(shape)


POST_ACCUMULATE_HOOKS = [0]   # how many tensors ever got a post-accumulate-grad hook: 0 skips the
                              # leaf counting below (the common case costs nothing)

KEPT_GRAD_SIZE = 64   # received gradients of at most this many elements outlive backward


def free_node(node, grads, kept):
    """Release what only backward needed, after ``node``'s backward ran with ``grads`` (one array
    per output), keeping what draws the graph afterwards (``cr.viz.draw_graph``).

    Dropped: the saved tensors and arrays, the version records and the output hooks. Kept:
    ``inputs`` (the graph's structure, and so every intermediate tensor with its value, as
    PyTorch keeps ``next_functions``) and ``_grads_received``, each received gradient of at most
    ``KEPT_GRAD_SIZE`` elements (else None). They are not copied (a copy per node measured ~2 us
    on the 88 us playground step): their ids go into ``kept``, and the one array that could
    change later, a gradient handed on unchanged to a leaf's ``.grad``, is copied there instead
    (``accumulate_grads``). ``_freed`` makes a second backward raise."""
    d = node.__dict__
    inputs = d.get("inputs")
    name = d.get("_node_name")
    hidden = d.get("_hidden")
    d.clear()
    d["_freed"] = True
    d["inputs"] = inputs
    if name is not None:
        d["_node_name"] = name
    if hidden is not None:
        d["_hidden"] = hidden
    if len(grads) == 1:   # the common case, without the loop
        g = grads[0]
        if g is not None and g.size <= KEPT_GRAD_SIZE:
            kept.add(id(g))
            d["_grads_received"] = (g,)
        else:
            d["_grads_received"] = (None,)
        return
    received = tuple([g if g is not None and g.size <= KEPT_GRAD_SIZE else None for g in grads])
    kept.update(id(g) for g in received if g is not None)
    d["_grads_received"] = received


def _raise_modified(node):
    t, v = next((t, v) for t, v in zip(node._tensors, node._versions) if t._version != v)
    raise RuntimeError(
        f"one of the variables needed for gradient computation has been modified by an inplace "
        f"operation: [{t.array.dtype} {list(t.array.shape)}], which is an input of "
        f"{node.node_name()}, is at version {t._version}; expected version {v} instead. Hint: "
        f"compute the gradient before modifying it, or use an out-of-place operation")


def root_gradients(roots, gradients, argument, caller):
    """The arrays backward starts from, dL/droot for each root: ``gradients`` holds a tensor or
    array of the root's shape, or None for a one-element root (then dL/dL = 1).

    ``argument`` and ``caller`` name what the user passes them as, for the error messages. The
    arrays are copies: a seed can become a leaf's ``.grad``, which later accumulates in place.
    """
    seeds = []
    for i, (t, g) in enumerate(zip(roots, gradients)):
        if not t.requires_grad:
            raise RuntimeError(f"element {i} of tensors does not require grad and does not have "
                               f"a grad_fn: call requires_grad_() on a leaf it depends on, or "
                               f"check that it was not computed under no_grad()")
        arr = t.array
        if g is None:
            if arr.size != 1:
                raise RuntimeError(f"grad can be implicitly created only for scalar outputs: this "
                                   f"tensor has shape {tuple(arr.shape)}; pass {argument}= (a "
                                   f"tensor of that shape) to {caller}()")
            seeds.append(array_module(arr).ones(arr.shape, dtype=arr.dtype))
            continue
        g = g.array if isinstance(g, TensorBase) else array_module(arr).asarray(g)
        if g.shape != arr.shape:
            raise RuntimeError(f"{caller}: {argument} has shape {tuple(g.shape)} but the tensor "
                               f"has shape {tuple(arr.shape)}")
        seeds.append(owned_copy(g, arr.dtype))
    return seeds


def run_backward(roots, root_grads, retain_graph=False, capture=None, accumulate=True):
    """Backpropagate ``root_grads`` (arrays) from ``roots`` (tensors).

    With ``accumulate`` the leaves' ``.grad`` grow; ``capture`` (a list of tensors) instead
    collects and returns their gradients, touching no ``.grad`` (``autograd.grad``).
    """
    table = {}          # node -> list of gradient arrays, one per output
    leaf_grads = {}     # id(leaf) -> [leaf, gradient array]
    kept = set()        # ids of the gradient arrays that freed nodes keep (free_node)

    # Seed the roots.
    starts = []
    for t, g in zip(roots, root_grads):
        node = t.grad_fn
        if node is None:
            if t.requires_grad:
                _add_leaf(leaf_grads, t, g)
            continue
        if node._freed:
            _raise_freed(node)
        slots = table.get(node)
        if slots is None:
            slots = table[node] = [None] * node._n_out
            starts.append(node)
        nr = t._output_nr
        slots[nr] = g if slots[nr] is None else slots[nr] + g

    # Count consumers of each node inside the graph.
    deps = {}
    # Leaves with post-accumulate-grad hooks (DistributedDataParallel's) get their .grad as soon
    # as their last consumer ran, not after the whole walk, so the hook can start sending it
    # while backward goes on: count their uses too.
    leaf_uses = {} if POST_ACCUMULATE_HOOKS[0] and accumulate and capture is None else None
    stack = list(starts)
    seen = set(starts)   # a node enters the stack once: a start at once, others at their first use
    while stack:
        inputs = stack.pop().inputs
        if inputs is None:
            continue
        for t in inputs:
            if t is None:
                continue
            fn = t.grad_fn
            if fn is None:
                if leaf_uses is not None and getattr(t, "_post_accumulate_hooks", None):
                    leaf_uses[id(t)] = leaf_uses.get(id(t), 0) + 1
                continue
            n = deps.get(fn)
            if n is None:
                deps[fn] = 1
                if fn not in seen:
                    stack.append(fn)
            else:
                deps[fn] = n + 1
    ready = [n for n in starts if n not in deps]

    capture_nodes = {}
    captured = {}
    if capture is not None:
        for t in capture:
            if t.grad_fn is not None:
                capture_nodes.setdefault(t.grad_fn, []).append(t)
    check_nan = anomaly.state.enabled

    while ready:
        node = ready.pop()
        if node._freed:
            _raise_freed(node)
        grads = table.pop(node)
        if node._watch:
            for nr, t in node._watch.items():
                if grads[nr] is not None:
                    grads[nr] = _apply_hooks(t, grads[nr], retain=accumulate)
        if capture_nodes and node in capture_nodes:
            for t in capture_nodes[node]:
                captured[id(t)] = grads[t._output_nr]
        if node._n_out > 1 and any(g is None for g in grads):
            made = array_module(next(g for g in grads if g is not None))
            grads = [made.zeros(s, dt) if g is None else g
                     for g, (s, dt) in zip(grads, node._out_meta)]
        if [t._version for t in node._tensors] != node._versions:   # one C-level comparison
            _raise_modified(node)
        if node.raw:   # a built-in op: arrays in, arrays out, nothing to wrap
            in_grads = node.backward(node, *grads)
            if type(in_grads) is not tuple:
                in_grads = (in_grads,)
        else:
            in_grads = node._run_backward(grads)
        if check_nan:
            anomaly.check(node.node_name(), "backward", in_grads)
        inputs = node.inputs
        if len(in_grads) < len(inputs):
            raise RuntimeError(f"{node.node_name()}.backward returned {len(in_grads)} gradients, "
                               f"expected {len(inputs)} (one per forward argument)")
        for t, g in zip(inputs, in_grads):
            if t is None:
                continue
            if leaf_uses and id(t) in leaf_uses:
                _leaf_use_done(t, g, leaf_uses, leaf_grads, kept, grads)
                continue
            if g is None:
                continue
            arr = t.array
            if g.shape != arr.shape:
                try:
                    g = undo_broadcast(g, arr.shape)
                except ValueError:
                    raise RuntimeError(
                        f"{node.node_name()}.backward returned a gradient of shape "
                        f"{tuple(g.shape)} for an input of shape {tuple(arr.shape)}") from None
            if g.dtype is not arr.dtype and g.dtype != arr.dtype:
                g = g.astype(arr.dtype)
            fn = t.grad_fn
            if fn is None:
                _add_leaf(leaf_grads, t, g)
                continue
            slots = table.get(fn)
            if slots is None:
                slots = table[fn] = [None] * fn._n_out
            nr = t._output_nr
            slots[nr] = g if slots[nr] is None else slots[nr] + g
            left = deps[fn] - 1
            deps[fn] = left
            if left == 0:
                ready.append(fn)
        if not retain_graph:
            free_node(node, grads, kept)

    if capture is not None:
        out = []
        for t in capture:
            if t.grad_fn is None:
                entry = leaf_grads.get(id(t))
                g = None if entry is None else entry[1]
            else:
                g = captured.get(id(t))
            out.append(g.copy() if g is not None and id(g) in kept else g)
        return out

    if accumulate:
        accumulate_grads(leaf_grads.values(), kept)
    return None


def _leaf_use_done(t, g, leaf_uses, leaf_grads, kept, received):
    """One consumer of leaf ``t`` (which has post-accumulate-grad hooks) handed it ``g``; after
    the last one, accumulate into ``t.grad`` now and run the hooks."""
    if g is not None:
        arr = t.array
        if g.shape != arr.shape:
            g = undo_broadcast(g, arr.shape)
        if g.dtype != arr.dtype:
            g = g.astype(arr.dtype)
        _add_leaf(leaf_grads, t, g)
    left = leaf_uses[id(t)] - 1
    leaf_uses[id(t)] = left
    if left:
        return
    del leaf_uses[id(t)]
    entry = leaf_grads.pop(id(t), None)
    if entry is None:
        return
    g = entry[1]
    if any(g is r for r in received):   # the node about to be freed keeps this array
        g = g.copy()
    accumulate_grads([(t, g)], kept)


def accumulate_grads(pairs, kept=()):
    """``accumulate_grad`` for several (tensor, gradient) pairs. One array can reach several
    leaves (``a + b`` hands the same gradient to both), and each ``.grad`` must own its memory,
    or accumulating into one would change the other; so must the arrays whose ids are in
    ``kept`` (held by freed nodes for ``draw_graph``)."""
    handed = set()
    any_post_hooks = POST_ACCUMULATE_HOOKS[0]   # else skip the (slow) getattr of an unset slot
    for t, g in pairs:
        if t._hooks and t.grad_fn is None:   # a non-leaf's hooks ran during the walk
            g = _apply_hooks(t, g, retain=False)
        if id(g) in handed or id(g) in kept:
            g = g.copy()
        handed.add(id(g))
        accumulate_grad(t, g)
        if any_post_hooks:
            hooks = getattr(t, "_post_accumulate_hooks", None)
            if hooks:
                for h in list(hooks):
                    h(t)


def _add_leaf(leaf_grads, t, g):
    """Add ``g`` to the gradient collected so far for leaf ``t`` (the sum over its uses)."""
    entry = leaf_grads.get(id(t))
    if entry is None:
        leaf_grads[id(t)] = [t, g]
    else:
        entry[1] = entry[1] + g


def accumulate_grad(t, g):
    """Add ``g`` into ``t.grad`` (leaves and backward(inputs=...))."""
    old = t.grad
    if old is None:
        # The leaf must own its gradient: backward may hand the same array (or a read-only
        # broadcast view) to several inputs, and users clip or zero grads in place.
        dtype = t.array.dtype
        if (g.base is not None or g.dtype is not dtype and g.dtype != dtype
                or not getattr(g.flags, "writeable", True)):   # CuPy's arrays have no flags
            g = owned_copy(g, dtype)
        t.grad = make_tensor(g)
    else:
        if old.array.shape != g.shape:
            raise RuntimeError(f"accumulating a gradient of shape {tuple(g.shape)} into .grad of "
                               f"shape {tuple(old.array.shape)}")
        np.add(old.array, g, out=old.array, casting="unsafe")


def _apply_hooks(t, g, retain):
    """``t``'s gradient ``g`` after its hooks (each may return a replacement); with ``retain``,
    also kept in ``t.grad`` when ``t`` retains its gradient."""
    hooks = t._hooks
    if hooks:
        for h in hooks:
            r = h(make_tensor(g))
            if r is not None:
                g = r.array if isinstance(r, TensorBase) else np.asarray(r)
    if retain and t._retains_grad:
        if t.grad is None:
            t.grad = make_tensor(owned_copy(g))
        else:
            t.grad = make_tensor(t.grad.array + g)
    return g


def _raise_freed(node):
    raise RuntimeError(
        f"Trying to backward through the graph a second time (at {node.node_name()}): its saved "
        f"values were freed after the first backward. Pass retain_graph=True to the first "
        f"backward() if you need to backward through it again.")
