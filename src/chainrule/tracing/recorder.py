"""Recording one eager call: every op that runs, and where each of its arguments came from.

While ``recording(...)`` is open, ``Function.apply`` is replaced by a door that runs the op as
usual and then writes down one ``OpRecord``: the op class, and for each argument its *source*,
an index into the list of values the replay keeps (the call's input arrays, the parameters',
the buffers', constants, then each op's outputs in order). The Tensor methods that let Python
look at values (``item``, ``bool``, ``numpy`` ...) or attach per-tensor state (``retain_grad``,
hooks) are watched too: using one makes the recording unsafe, and the call stays eager.

Only the recording thread is traced; other threads pass the doors unchanged.
"""
import contextlib
import functools
import threading

import numpy as np

from ..autograd.function import Function
from ..autograd.tensor_base import TensorBase
from ..backend import is_device_array
from ..backends.reference import state as reference_state
from .. import random as cr_random
from . import steps
from .graph import flatten


class Unsafe(Exception):
    """The recording cannot be replayed (the reason is the message)."""


# The Tensor methods that hand values to Python (data-dependent control flow a replay would
# not re-run) or attach state to intermediate tensors (which a replay does not build).
WATCHED_METHODS = ("item", "tolist", "numpy", "__array__", "__bool__", "__float__", "__int__",
                   "__index__", "__repr__", "__format__", "retain_grad", "register_hook",
                   "register_post_accumulate_grad_hook", "requires_grad_", "detach_")


class OpRecord:
    """One op of the recording: ``cls.forward`` on the values at ``sources``; its outputs go to
    ``out_slots``. ``tensor_args[i]``: whether argument i was a Tensor (else passed as is);
    ``grad_args[i]``: whether it required grad (the node's ``inputs``/``needs_input_grad``)."""

    __slots__ = ("cls", "sources", "tensor_args", "grad_args", "recorded", "multi",
                 "out_slots", "out_grad", "out_meta")

    def __init__(self, cls, sources, tensor_args, grad_args, recorded, multi, out_slots,
                 out_grad, out_meta):
        self.cls, self.sources, self.tensor_args = cls, sources, tensor_args
        self.grad_args, self.recorded, self.multi = grad_args, recorded, multi
        self.out_slots, self.out_grad, self.out_meta = out_slots, out_grad, out_meta


class Recording:
    """What one traced call did. ``kinds[slot]`` says what each value slot holds: ("input", i),
    ("param", i), ("buffer", i), ("tensor_const", tensor), ("const", value), ("rng", getter),
    ("scratch", dict) (an empty dict made anew for each replay) or ("op", op index)."""

    def __init__(self, inputs, params, buffers):
        self.thread = threading.get_ident()
        self.inputs, self.params, self.buffers = inputs, params, buffers
        self.kinds = []
        self.by_tensor = {}    # id(tensor) -> (tensor, its array then, slot)
        self.by_array = {}     # id(array) -> (array, slot)
        self.versions = []     # (tensor, version then) for every tensor met
        self.ops = []
        self.writes = {}       # slot -> how many recorded ops wrote into it (``writes_inputs``)
        self.unsafe = None
        self.keep = []         # objects whose ids are keys above stay alive while recording
        self.modules = []      # the outermost modules called, whose state the guards check
        self.allow_steps = False   # a compiled function may call backward and step calls
        self.events = []       # steps.Backward and steps.Call, in order among the ops
        self.grads = None      # steps.GradSnapshot after the last event, once backward ran
        self.inputs, self.params, self.buffers = list(inputs), list(params), list(buffers)
        for kind, tensors in (("input", inputs), ("param", params), ("buffer", buffers)):
            for i, t in enumerate(tensors):
                if id(t) not in self.by_tensor:
                    self._new_slot((kind, i), t)

    def add_module(self, m):
        """A module the call ran (outside any other): its parameters and buffers become
        slots, and the guards will check it."""
        if any(m is known for known in self.modules):
            return
        self.modules.append(m)
        for p in m.parameters():
            if id(p) not in self.by_tensor:
                self.params.append(p)
                self._new_slot(("param", len(self.params) - 1), p)
        for b in m.buffers():
            if id(b) not in self.by_tensor:
                self.buffers.append(b)
                self._new_slot(("buffer", len(self.buffers) - 1), b)

    def _new_slot(self, kind, tensor=None, array=None):
        slot = len(self.kinds)
        self.kinds.append(kind)
        if tensor is not None:
            array = tensor.array
            self.by_tensor[id(tensor)] = (tensor, array, slot)
            self.versions.append((tensor, tensor._version))
            self.keep.append(tensor)
        if array is not None and id(array) not in self.by_array:
            self.by_array[id(array)] = (array, slot)
            self.keep.append(array)
        return slot

    def fail(self, reason):
        if self.unsafe is None:
            self.unsafe = reason

    def source_of(self, a):
        """The slot of argument ``a`` (made a new constant slot when unknown)."""
        if isinstance(a, TensorBase):
            if self.grads is not None and id(a) in self.grads.grad_ids:
                self.fail("an op read a gradient that backward made inside the call")
            hit = self.by_tensor.get(id(a))
            if hit is not None and hit[1] is a.array:
                return hit[2]
            hit = self.by_array.get(id(a.array))
            if hit is not None:
                return hit[1]
            if a.requires_grad:
                self.fail("an op used a tensor that requires grad but is neither an input, a "
                          "parameter of the module nor made by an op inside it")
            if a.grad_fn is not None:
                self.fail("an op used a tensor made by an earlier graph outside the call")
            return self._new_slot(("tensor_const", a), a)
        if type(a) is np.ndarray or is_device_array(a):
            hit = self.by_array.get(id(a))
            if hit is not None:
                return hit[1]
            self._check_shares(a)
            slot = self._new_slot(("const", a), array=a)
            return slot
        if isinstance(a, np.random.Generator):
            getter = _generator_getter(a)
            if getter is None:
                self.fail("an op drew from a random generator chainrule does not own")
            return self._new_slot(("rng", getter))
        if type(a) is dict:
            hit = self.by_array.get(id(a))
            if hit is not None:
                return hit[1]
            if not a:   # an empty dict an op fills for a later one (batch norm's ``stats``)
                return self._new_slot(("scratch", dict), array=a)
        return self._new_slot(("const", a))

    def _check_shares(self, a):
        """A raw array argument that views an input's memory, or holds an input's values (a
        converted copy), was likely made from it outside the ops: its values would go stale
        in a replay. (A constant that merely equals an input costs only the replay.)"""
        for t in self.inputs:
            b = t.array
            if np.may_share_memory(a, b) or (a.shape == b.shape and np.array_equal(a, b)):
                self.fail("an op got a raw array computed from an input outside the ops")
                return

    def sources(self, args):
        """The slots of an op's arguments, looked up before it runs (an empty dict it fills
        is scratch space)."""
        return tuple(self.source_of(a) for a in args)

    def add_op(self, cls, args, out, sources):
        if not cls.raw:
            self.fail(f"{cls.__name__} is a user Function (it computes on Tensors, which a "
                      f"replay does not see)")
        for pos in getattr(cls, "writes_inputs", ()):
            if pos >= len(args) or args[pos] is None:
                continue
            slot = sources[pos]
            if not isinstance(args[pos], TensorBase) or self.kinds[slot][0] != "buffer":
                self.fail(f"{cls.__name__} writes in place into something that is not a "
                          f"buffer of the module")
            self.writes[slot] = self.writes.get(slot, 0) + 1
        tensor_args = tuple(isinstance(a, TensorBase) for a in args)
        grad_args = tuple(isinstance(a, TensorBase) and a.requires_grad for a in args)
        multi = type(out) is tuple
        outs = out if multi else (out,)
        recorded = any(o.grad_fn is not None for o in outs)
        slots = []
        for o in outs:
            if id(o) in self.by_tensor:
                self.fail("an op returned a tensor that already existed")
            slots.append(self._new_slot(("op", len(self.ops)), o))
        self.ops.append(OpRecord(cls, sources, tensor_args, grad_args, recorded, multi,
                                 tuple(slots), tuple(o.requires_grad for o in outs),
                                 tuple((o.array.shape, o.array.dtype) for o in outs)))

    # -- the training-step events (steps.py) --------------------------------------------------
    def add_backward(self, t, gradient, retain_graph, create_graph, inputs):
        """``t.backward(...)`` is about to run eagerly: record it, or say why a replay cannot."""
        if not self.allow_steps:
            self.fail("Tensor.backward() ran inside the call")
        elif gradient is not None or retain_graph or create_graph or inputs is not None:
            self.fail("backward() with gradient=, retain_graph, create_graph or inputs= ran "
                      "inside the call")
        elif self.has_backward():
            self.fail("backward() ran twice inside the call")
        else:
            slot = self.slot_of_output(t)
            if slot is None or self.kinds[slot][0] != "op" or t.grad_fn is None:
                self.fail("backward() ran on a tensor that no op inside the call made")
            else:
                self.events.append(steps.Backward(len(self.ops), slot))

    def add_call(self, fn, args, kwargs):
        """A step call (``opt.step()`` ...) is about to run eagerly with ``args`` (its object
        first): record it, or say why a replay cannot."""
        if not self.allow_steps:
            self.fail(f"{fn.__qualname__}() ran inside a compiled module")
            return
        self.check_grads()
        tensors = []
        flatten(args + tuple(kwargs.values()), tensors)
        if fn.__name__ == "step" and any(callable(a) and not isinstance(a, TensorBase)
                                         for a in args[1:] + tuple(kwargs.values())):
            self.fail(f"{fn.__qualname__}() got a closure")
        elif any(not any(t is p for p in self.params) for t in tensors):
            self.fail(f"{fn.__qualname__}() got tensors that are not parameters of the "
                      f"modules the call ran")
        self.events.append(steps.Call(len(self.ops), fn, args, kwargs))

    def has_backward(self):
        return any(type(e) is steps.Backward for e in self.events)

    def versions_now(self):
        return [t._version for t, _ in self.versions]

    def after_event(self, versions_before):
        """An event ran: the in-place writes it made to recorded tensors are its own (the
        optimiser's to the parameters), and the gradients as they are now are the reference."""
        for (t, _), before in zip(self.versions, versions_before):
            if t._version != before:
                slot = self.by_tensor[id(t)][2]
                self.writes[slot] = self.writes.get(slot, 0) + t._version - before
        if self.has_backward():
            leaves = [t for t in self.inputs + self.params if t.requires_grad]
            self.grads = steps.GradSnapshot(leaves)

    def check_grads(self):
        if self.grads is not None and self.grads.changed():
            self.fail("the gradients were changed between backward and a step call by "
                      "something a replay would not repeat")

    def check_versions(self):
        """In-place writes the recording did not see: a version moved on a tensor whose array
        is still the one recorded (an unrecorded write into it), or on an input, parameter or
        buffer at all (a replay would not repeat the write)."""
        for t, v in self.versions:
            slot = self.by_tensor[id(t)][2]
            if t._version == v + self.writes.get(slot, 0):
                continue
            kind = self.kinds[slot][0]
            if kind in ("input", "param", "buffer"):
                what = {"input": "an input", "param": "a parameter", "buffer": "a buffer"}[kind]
                self.fail(f"an in-place write changed {what} during the call (running "
                          f"statistics, for instance), which a replay would not repeat")
            elif self.by_tensor[id(t)][1] is t.array:
                self.fail("an in-place write that is not an op changed a tensor inside the call")

    def release(self):
        """Drop what only the recording needed (the intermediate tensors it kept alive)."""
        self.by_tensor = self.by_array = None
        self.versions = self.keep = self.grads = None

    def slot_of_output(self, t):
        hit = self.by_tensor.get(id(t))
        if hit is not None and hit[1] is t.array:
            return hit[2]
        hit = self.by_array.get(id(t.array))
        return None if hit is None else hit[1]


def _generator_getter(g):
    """How a replay finds the generator ``g`` is now (``manual_seed`` makes a new one)."""
    for gen in list(cr_random.generators):
        if g is gen.rng:
            return lambda: gen.rng
    for key, dev in list(cr_random._device_generators.items()):
        if g is dev:
            return lambda: cr_random.device_rng(*key)
    return None


_active = []   # the open Recording (at most one per process at a time)
_lock = threading.Lock()


def active():
    """The Recording of the calling thread, or None."""
    if not _active:
        return None
    rec = _active[0]
    return rec if rec.thread == threading.get_ident() else None


@contextlib.contextmanager
def recording(rec):
    """Watch ``Function.apply`` and the value-reading Tensor methods for ``rec``'s thread."""
    from ..tensor import Tensor
    from ..nn.module import Module
    if not _lock.acquire(blocking=False):
        raise Unsafe("another thread is recording")
    original_apply = Function.__dict__["apply"]
    eager_apply = original_apply.__func__
    originals = {name: Tensor.__dict__[name] for name in WATCHED_METHODS}

    def recording_apply(cls, *args):
        if rec.thread != threading.get_ident() or _paused:
            return eager_apply(cls, *args)
        sources = rec.sources(args)
        _paused.append(True)        # ops a user Function runs inside are its own business
        try:
            out = eager_apply(cls, *args)
        finally:
            _paused.pop()
        rec.add_op(cls, args, out, sources)
        return out

    original_call = Module.__dict__["__call__"]
    depth = [0]

    def recording_call(module, *args, **kwargs):
        if rec.thread != threading.get_ident() or _paused:
            return original_call(module, *args, **kwargs)
        if depth[0] == 0:
            rec.add_module(module)
        depth[0] += 1
        try:
            return original_call(module, *args, **kwargs)
        finally:
            depth[0] -= 1

    original_backward = Tensor.__dict__["backward"]

    def recording_backward(t, gradient=None, retain_graph=None, create_graph=False,
                           inputs=None):
        if rec.thread != threading.get_ident() or _paused:
            return original_backward(t, gradient, retain_graph, create_graph, inputs)
        rec.add_backward(t, gradient, retain_graph, create_graph, inputs)
        return _as_event(lambda: original_backward(t, gradient, retain_graph, create_graph,
                                                   inputs))

    def _as_event(run):
        before = rec.versions_now()
        _paused.append(True)
        try:
            return run()
        finally:
            _paused.pop()
            rec.after_event(before)

    def watch_step(fn):
        @functools.wraps(fn)
        def watched(*args, **kwargs):
            if rec.thread != threading.get_ident() or _paused:
                return fn(*args, **kwargs)
            fixed = steps.step_call_arguments(args)
            rec.add_call(fn, fixed, kwargs)
            return _as_event(lambda: fn(*fixed, **kwargs))
        return watched

    step_callables = steps.step_callables()

    def watch(name, method):
        def watched(self, *args, **kwargs):
            if rec.thread == threading.get_ident() and not _paused:
                rec.fail(f"Tensor.{name}() ran inside the call")
            return method(self, *args, **kwargs)
        watched.__name__ = name
        return watched

    _active.append(rec)
    Function.apply = classmethod(recording_apply)
    Module.__call__ = recording_call
    for name, method in originals.items():
        setattr(Tensor, name, watch(name, method))
    Tensor.backward = recording_backward
    for owner, name, fn in step_callables:
        setattr(owner, name, watch_step(fn))
    # Reference twins and autocast's wrappers hold an ``apply`` bound when their switch last
    # flipped: flip it again (to the same value) so that they go through the door too.
    reference_state.set(reference_state.enabled)
    try:
        yield rec
    finally:
        Function.apply = original_apply
        Module.__call__ = original_call
        for name, method in originals.items():
            setattr(Tensor, name, method)
        Tensor.backward = original_backward
        for owner, name, fn in step_callables:
            setattr(owner, name, fn)
        reference_state.set(reference_state.enabled)
        _active.pop()
        _lock.release()


_paused = []
