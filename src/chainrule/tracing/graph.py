"""A recording turned into something to run again: ``Graph.run`` replays the recorded ops'
forwards on new inputs and returns output tensors whose ``grad_fn`` is one node,
``CompiledFunctionBackward`` (PyTorch's name for the node AOTAutograd makes), whose backward
runs the recorded ops' backwards.

The replay calls the very ``forward``/``backward`` code the eager call ran, on the same kind of
arguments, so its numbers are the eager ones bit for bit. What it leaves out is the bookkeeping
around each op: no Tensor per intermediate value, no graph node per op, no engine walk over
them. The backward is a small copy of the engine's walk (``autograd/engine.py``) over the
recorded ops, in the same order, with the same broadcast-undoing and casts, so that gradients
are summed in the same order as in eager mode.
"""
import operator

import numpy as np

from ..autograd.engine import accumulate_grads, undo_broadcast
from ..autograd.function import Function
from ..autograd.tensor_base import TensorBase, make_tensor
from ..backend import array_module, is_device_array
from . import codegen
from .steps import Backward

_ndarray = np.ndarray


def _as_array(o):
    """An op's raw output as the array its output tensor holds (``function._wrap``'s rule)."""
    if isinstance(o, TensorBase):
        return o.array
    return o if type(o) is _ndarray or is_device_array(o) else np.asarray(o)


class _Op:
    """One op of the replay: its class, how to gather its arguments, where its outputs go and,
    for backward, where each argument's gradient goes."""

    __slots__ = ("cls", "forward", "backward", "gather", "single", "grad_marks", "multi",
                 "out_slot", "out_slots", "node", "targets", "out_meta", "n_out", "sources")


class Graph:
    """The replayable form of one ``Recording``."""

    def __init__(self, rec, output_template, output_slots):
        kinds = rec.kinds
        self.kinds = kinds
        self._params = rec.params
        self._buffers = rec.buffers
        self.n_slots = len(kinds)
        self.input_slots = []    # (slot, input position)
        self.param_slots = []    # (slot, tensor)
        self.buffer_slots = []
        self.tensor_consts = []  # (slot, tensor): arrays read at each call
        self.rng_slots = []      # (slot, getter): generators, scratch dicts
        base = [None] * self.n_slots
        for slot, (kind, what) in enumerate(kinds):
            if kind == "input":
                self.input_slots.append((slot, what))
            elif kind == "param":
                self.param_slots.append((slot, rec.params[what]))
            elif kind == "buffer":
                self.buffer_slots.append((slot, rec.buffers[what]))
            elif kind == "tensor_const":
                self.tensor_consts.append((slot, what))
            elif kind == "rng":
                self.rng_slots.append((slot, what))
            elif kind == "scratch":
                self.rng_slots.append((slot, what))     # a fresh one per call, as a getter
            elif kind == "const":
                base[slot] = what
        self.base = base
        self.n_inputs = len(rec.inputs)

        # Which slots carry a gradient, and to where: a leaf (an input or a parameter that
        # requires grad, one entry of the node's ``inputs``) or an op output.
        leaf_of_slot = {}
        self.leaves = []         # (kind, position or tensor) per node input
        grad_slot = [False] * self.n_slots
        for slot, (kind, what) in enumerate(kinds):
            t = (rec.inputs[what] if kind == "input" else
                 rec.params[what] if kind == "param" else None)
            if t is not None and t.requires_grad:
                grad_slot[slot] = True
        ops = []
        self.op_of_slot = {}
        for i, r in enumerate(rec.ops):
            op = _Op()
            op.cls = r.cls
            op.forward = r.cls.forward
            op.backward = r.cls.backward
            n = len(r.sources)
            op.single = n == 1
            op.gather = operator.itemgetter(*r.sources) if n else (lambda vals: ())
            op.sources = r.sources
            # ctx.inputs as needs_input_grad reads it: True for an argument that needs a
            # gradient, None for one that does not (the op sees no tensors in a replay)
            op.grad_marks = [True if g else None for g in r.grad_args] if r.recorded else None
            op.multi = r.multi
            op.out_slots = r.out_slots
            op.out_slot = r.out_slots[0]
            op.out_meta = r.out_meta
            op.n_out = len(r.out_slots)
            op.node = r.recorded
            targets = []
            for s, needs in zip(r.sources, r.grad_args):
                if not (needs and r.recorded):
                    targets.append(None)
                    continue
                kind = kinds[s][0]
                shape, dtype = self._slot_meta(rec, s)
                if kind == "op":
                    targets.append(("op", s, shape, dtype))
                else:
                    if s not in leaf_of_slot:
                        leaf_of_slot[s] = len(self.leaves)
                        self.leaves.append(s)
                    targets.append(("leaf", leaf_of_slot[s], shape, dtype))
            op.targets = targets
            for s, g in zip(r.out_slots, r.out_grad):
                grad_slot[s] = g
                self.op_of_slot[s] = i
            ops.append(op)
        self.ops = ops
        self.grad_slot = grad_slot
        self.output_template = output_template
        self.output_slots = output_slots
        # the node's outputs: the op outputs among the call's outputs that carry a gradient,
        # each once (an input or parameter returned as it is stays itself)
        self.node_outputs = []
        for s in output_slots:
            if grad_slot[s] and kinds[s][0] == "op" and s not in self.node_outputs:
                self.node_outputs.append(s)
        self.node_output_nr = {s: k for k, s in enumerate(self.node_outputs)}
        self.out_meta = tuple(self._slot_meta(rec, s) for s in self.node_outputs)
        self.leaf_tensor = [(kinds[s][0], kinds[s][1]) for s in self.leaves]
        self.leaf_dtypes = [self._slot_meta(rec, s)[1] for s in self.leaves]
        # tensors whose version backward checks, as each op's node checks its tensor arguments
        self.watched = sorted({s for r in rec.ops for s, is_t in zip(r.sources, r.tensor_args)
                               if is_t and kinds[s][0] in ("input", "param")})
        self.plan = self._plan_backward(self.node_outputs)
        # a training step's backward() and step calls (steps.py), in order among the ops
        self.events = rec.events
        for e in self.events:
            if type(e) is Backward:
                e.plan = self._plan_backward([e.root])
        self.has_backward = any(type(e) is Backward for e in self.events)
        self.root_metas = {e.root: self._slot_meta(rec, e.root) for e in self.events
                           if type(e) is Backward}
        self.reads = self.param_slots + self.buffer_slots + self.tensor_consts
        # buffers an op writes into in place (batch norm's running statistics): the replay
        # advances their versions as the eager caller does
        bumps = [tuple(rec.buffers[kinds[r.sources[pos]][1]]
                       for pos in getattr(r.cls, "writes_inputs", ())
                       if pos < len(r.sources) and r.tensor_args[pos])
                 for r in rec.ops]
        self.forward_plan = [(op.cls, op.forward, op.gather, op.single, op.grad_marks,
                              op.multi, op.out_slots if op.multi else op.out_slot, bump)
                             for op, bump in zip(ops, bumps)]
        # with events: (the ops before it, the event) for each, then (the ops after, None)
        bounds = [0] + [e.at for e in self.events] + [len(ops)]
        self.segments = [(self.forward_plan[a:b], e)
                         for a, b, e in zip(bounds, bounds[1:], self.events + [None])]
        self.backward_plan = []
        for op in ops:
            targets = []
            for pos, t in enumerate(op.targets):
                if t is None:
                    continue
                kind, where, shape, dtype = t
                if kind == "leaf":
                    targets.append((pos, True, where, 0, shape, dtype))
                else:
                    j = self.op_of_slot[where]
                    targets.append((pos, False, j, ops[j].out_slots.index(where), shape, dtype))
            self.backward_plan.append((op.backward, op.n_out, op.out_meta, tuple(targets)))
        self.leaf_params = [None if kind == "input" else rec.params[what]
                            for kind, what in self.leaf_tensor]
        self.leaf_inputs = [(k, what) for k, (kind, what) in enumerate(self.leaf_tensor)
                            if kind == "input"]
        self.watched_params = [(k, rec.params[self.kinds[s][1]]) for k, s in enumerate(self.watched)
                               if self.kinds[s][0] == "param"]
        self.watched_inputs = [(k, self.kinds[s][1]) for k, s in enumerate(self.watched)
                               if self.kinds[s][0] == "input"]
        # the replay written out as one function (codegen.py); its backward walks are checked
        # against one more run of the interpreter before it takes over (``_walks``)
        self._replay = self._walks = self._pending = None
        self._written_backward = self._backward_pending = None
        if codegen.ENABLED:
            replay, walks = codegen.generate(self)
            if walks:
                self._pending, self._walks = replay, walks
            else:
                self._replay = replay
            if self.node_outputs and not self.has_backward:   # the node's own backward too
                self._backward_pending = codegen.generate_backward(self)

    @staticmethod
    def _slot_meta(rec, s):
        kind, what = rec.kinds[s]
        if kind == "op":
            r = rec.ops[what]
            return r.out_meta[r.out_slots.index(s)]
        t = {"input": rec.inputs, "param": rec.params, "buffer": rec.buffers}[kind][what]
        return t.array.shape, t.array.dtype

    def _plan_backward(self, roots):
        """(seeds, starts, deps) of a backward from the value slots ``roots``: where each
        root's gradient enters, and the consumer counts of the recorded nodes inside the graph
        reached from them (the engine's first pass, ``run_backward``), done once here."""
        ops = self.ops
        seeds = [(self.op_of_slot[s], ops[self.op_of_slot[s]].out_slots.index(s))
                 for s in roots]
        starts = []
        for s in roots:
            i = self.op_of_slot.get(s)
            if i is not None and i not in starts:
                starts.append(i)
        deps = {}
        stack = list(starts)
        seen = set(starts)
        while stack:
            op = ops[stack.pop()]
            if not op.node:
                continue
            for t in op.targets:
                if t is None or t[0] != "op":
                    continue
                j = self.op_of_slot[t[1]]
                if j in deps:
                    deps[j] += 1
                else:
                    deps[j] = 1
                    if j not in seen:
                        seen.add(j)
                        stack.append(j)
        return seeds, starts, deps

    # -- forward -------------------------------------------------------------------------------
    def run(self, args, grad_enabled):
        """Replay on the input tensors ``args`` (in recorded order); the outputs, rebuilt in
        the recorded structure: by the written-out replay where there is one (``codegen``),
        else by ``interpret``."""
        replay = self._replay
        if replay is None:
            return self.interpret(args, grad_enabled)
        grad = grad_enabled and self.node_outputs
        ctxs, vals = replay(args, bool(grad) and not self.has_backward)
        return self._outputs(args, grad, ctxs, vals)

    def interpret(self, args, grad_enabled):
        """``run`` as a walk over the recorded ops, reading and writing a table of values."""
        walks = self._walks
        if walks is not None:      # this run checks the written-out replay's backward walks
            self._walks, watched = None, {}
        vals = self.base.copy()
        for slot, pos in self.input_slots:
            vals[slot] = args[pos].array
        for slot, t in self.reads:
            vals[slot] = t.array
        for slot, getter in self.rng_slots:
            vals[slot] = getter()
        grad = grad_enabled and self.node_outputs
        ctxs = [] if grad or self.has_backward else None
        if self.events:
            for n, (part, event) in enumerate(self.segments):
                _forward(part, vals, ctxs)
                if type(event) is Backward:
                    walk = watched.setdefault(n, []) if walks is not None else None
                    self._backward_event(event, vals, ctxs, args, walk)
                elif event is not None:
                    event.run()
        else:
            _forward(self.forward_plan, vals, ctxs)
        if walks is not None and watched == walks:
            self._replay = self._pending
        self._pending = None
        return self._outputs(args, grad, ctxs, vals)

    def _outputs(self, args, grad, ctxs, vals):
        """The call's outputs from the values ``vals`` (indexed by slot), with the graph's node
        made when ``grad``."""
        node = None
        if grad:
            new = object.__new__
            node = new(CompiledFunctionBackward)
            inputs = self.leaf_params.copy()
            for k, pos in self.leaf_inputs:
                inputs[k] = args[pos]
            node.inputs = inputs
            node._n_out = len(self.node_outputs)
            if self.has_backward:
                # the call's own backward() ran through it: freed as in eager, keeping only
                # what a drawing of the graph reads (a second backward raises before the rest)
                node._freed = True
            else:
                tensors = [None] * len(self.watched)
                for k, t in self.watched_params:
                    tensors[k] = t
                for k, pos in self.watched_inputs:
                    tensors[k] = args[pos]
                node._tensors = tensors
                node._versions = [t._version for t in tensors]
                if node._n_out > 1:
                    node._out_meta = self.out_meta
                node._graph = self
                node._ctxs = ctxs
        if self.output_template is _TENSOR:    # the call returned one tensor
            return self._output_tensor(self.output_slots[0], vals, args, node)
        made = {}
        outs = []
        for s in self.output_slots:
            t = made.get(s)
            if t is None:
                t = made[s] = self._output_tensor(s, vals, args, node)
            outs.append(t)
        return _rebuild(self.output_template, iter(outs))

    def _output_tensor(self, s, vals, args, node):
        kind, what = self.kinds[s]
        if kind == "input":
            return args[what]
        if kind == "param":
            return self._params[what]
        if kind == "buffer":
            return self._buffers[what]
        t = make_tensor(vals[s])
        if node is not None and self.grad_slot[s]:
            t.requires_grad = True
            t.grad_fn = node
            t._output_nr = self.node_output_nr[s]
        return t

    def _backward_event(self, event, vals, ctxs, args, walk=None):
        """The call's ``root.backward()``: dL/droot = 1 walked back over the recorded ops, each
        leaf's gradient accumulated into its ``.grad`` as the engine does."""
        root = vals[event.root]
        seed = array_module(root).ones(root.shape, dtype=root.dtype)
        grads = self.backward(ctxs, (seed,), event.plan, walk)
        leaves = self.leaf_params
        if self.leaf_inputs:
            leaves = leaves.copy()
            for k, pos in self.leaf_inputs:
                leaves[k] = args[pos]
        accumulate_grads([(t, g) for t, g in zip(leaves, grads) if g is not None])

    # -- backward ------------------------------------------------------------------------------
    def backward(self, ctxs, grads, backward_plan=None, walk=None):
        """Gradients for the node's inputs from those of its outputs (arrays): the engine's
        walk over the recorded ops (from the outputs, or ``backward_plan``'s roots); the ops
        in the order they ran appended to ``walk`` where given. The node's backward runs
        written out (``codegen.generate_backward``) once one interpreted walk went as it was
        written, every output's gradient given."""
        if backward_plan is None and walk is None and all(g is not None for g in grads):
            if self._written_backward is not None:
                return self._written_backward(ctxs, grads)
            pending = self._backward_pending
            if pending is not None:
                self._backward_pending, watched = None, []
                result = self.backward(ctxs, grads, None, watched)
                if watched == pending[1]:
                    self._written_backward = pending[0]
                return result
        seeds, starts, deps = backward_plan or self.plan
        plan = self.backward_plan
        table = [None] * len(plan)
        for (i, nr), g in zip(seeds, grads):
            if g is None:
                continue
            slots = table[i]
            if slots is None:
                slots = table[i] = [None] * plan[i][1]
            slots[nr] = g if slots[nr] is None else slots[nr] + g
        leaf_grads = [None] * len(self.leaves)
        deps = deps.copy()
        ready = [i for i in starts if i not in deps and table[i] is not None]
        while ready:
            i = ready.pop()
            if walk is not None:
                walk.append(i)
            backward, n_out, out_meta, targets = plan[i]
            out_grads = table[i]
            table[i] = None
            if n_out > 1:
                out_grads = codegen.zero_none(out_grads, out_meta)
            res = backward(ctxs[i], *out_grads)
            if type(res) is not tuple:
                res = (res,)
            for pos, leaf, where, nr, shape, dtype in targets:
                g = res[pos]
                if g is None:
                    continue
                if g.shape != shape:
                    g = undo_broadcast(g, shape)
                if g.dtype is not dtype and g.dtype != dtype:
                    g = g.astype(dtype)
                if leaf:
                    old = leaf_grads[where]
                    leaf_grads[where] = g if old is None else old + g
                    continue
                slots = table[where]
                if slots is None:
                    slots = table[where] = [None] * plan[where][1]
                slots[nr] = g if slots[nr] is None else slots[nr] + g
                left = deps[where] - 1
                deps[where] = left
                if left == 0:
                    ready.append(where)
        return tuple(leaf_grads)


def _forward(plan, vals, ctxs):
    """Run the recorded ops of ``plan`` (a part of ``Graph.forward_plan``) on the values
    ``vals``, appending each op's ctx to ``ctxs`` unless None."""
    new = object.__new__
    for cls, forward, gather, single, grad_marks, multi, out_at, bump in plan:
        ctx = new(cls)
        if grad_marks is not None:
            ctx.inputs = grad_marks
        out = forward(ctx, gather(vals)) if single else forward(ctx, *gather(vals))
        if ctxs is not None:
            ctxs.append(ctx)
        if multi:
            for s, o in zip(out_at, out):
                vals[s] = _as_array(o)
        else:
            vals[out_at] = out if type(out) is _ndarray else _as_array(out)
        if bump:
            for t in bump:
                t._version += 1


class CompiledFunctionBackward(Function):
    """The one graph node of a replayed call: its backward runs every recorded op's backward,
    in the engine's order, and returns the gradients of the inputs and parameters."""

    raw = True
    _node_name = "CompiledFunctionBackward"

    @staticmethod
    def forward(ctx, *args):
        raise RuntimeError("CompiledFunctionBackward is made by a compiled module's replay, "
                           "not applied")

    @staticmethod
    def backward(ctx, *grads):
        return ctx._graph.backward(ctx._ctxs, grads)


def flatten(obj, tensors):
    """``obj`` with every tensor replaced by a marker (appended to ``tensors``); None when it
    holds something a replay cannot rebuild (a mutable object other than lists and dicts)."""
    if isinstance(obj, TensorBase):
        tensors.append(obj)
        return _TENSOR
    if type(obj) in (tuple, list):
        parts = [flatten(o, tensors) for o in obj]
        if any(p is _BAD for p in parts):
            return _BAD
        return (type(obj), tuple(parts))
    if type(obj) is dict:
        parts = [(k, flatten(v, tensors)) for k, v in obj.items()]
        if any(p is _BAD for _, p in parts):
            return _BAD
        return (dict, tuple(parts))
    if obj is None or type(obj) in (int, float, bool, str, complex):
        return ("value", obj)
    return _BAD


class _Marker:
    def __init__(self, name):
        self.name = name

    def __repr__(self):
        return self.name


_TENSOR = _Marker("<tensor>")
_BAD = _Marker("<cannot rebuild>")
BAD = _BAD


def _rebuild(template, tensors):
    if template is _TENSOR:
        return next(tensors)
    kind, parts = template
    if kind == "value":
        return parts
    if kind is dict:
        return {k: _rebuild(p, tensors) for k, p in parts}
    return kind(_rebuild(p, tensors) for p in parts)
