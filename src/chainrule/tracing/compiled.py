"""``CompiledCall``: the cache of recordings behind one compiled module or function.

The first call with a new guard key runs eagerly while recording; so does the second, and the
two recordings must agree (same ops from the same sources, the same constants): a constant that
changes between calls (a random draw outside an op, a value computed from the data outside the
ops) makes the key stay eager. From the third call on, the key replays.
"""
import threading
import warnings

import numpy as np

from . import guards
from ..autograd.tensor_base import TensorBase
from .graph import BAD, Graph, flatten
from .recorder import Recording, Unsafe, recording
from .steps import Backward

_state = threading.local()


def _is_tensor(a):
    return isinstance(a, TensorBase)


def is_compiling():
    """Whether the calling thread is recording a compiled call."""
    return getattr(_state, "depth", 0) > 0


class Unsupported(RuntimeError):
    """A call that ``cr.compile(..., fullgraph=True)`` cannot replay whole (PyTorch's
    ``torch._dynamo.exc.Unsupported``, raised there for a graph break)."""


class _Eager:
    """A cache entry that always runs eagerly, with the reason."""

    def __init__(self, reason):
        self.reason = reason


class _Pending:
    """A key recorded once, waiting for its second recording."""

    def __init__(self, rec, template, slots):
        self.rec, self.template, self.slots = rec, template, slots


class _Compiled:
    def __init__(self, graph, module_state, names_state):
        self.graph, self.module_state, self.names_state = graph, module_state, names_state


class CompiledCall:
    """Runs ``fn(*args, **kwargs)``, replaying it where a recording applies.

    ``module``: the module whose parameters and buffers ``fn`` uses (None for a function, whose
    tensors other than its arguments are then constants or refused when they require grad)."""

    def __init__(self, fn, module=None, recompile_limit=8, fullgraph=False):
        self.fn = fn
        self.module = module
        self.recompile_limit = recompile_limit
        self.fullgraph = fullgraph    # a call that would run eagerly raises Unsupported
        self.cache = {}
        self.reasons = {}    # key -> why it runs eagerly (read by the tests; no public API yet)
        self.replays = 0     # calls answered by a replay (for tests and the docs)
        self.warned = False

    def __call__(self, args, kwargs):
        if is_compiling():    # inside another recording: its ops join that one
            return self.fn(*args, **kwargs)
        reason = guards.eager_only_reason()
        if reason:
            return self._run_eagerly(reason, args, kwargs)
        if not kwargs and all(map(_is_tensor, args)):   # the common call: tensors only
            tensors = args
            template = len(args)
        else:
            tensors = []
            template = flatten((args, kwargs), tensors)
        if template is BAD:
            return self._run_eagerly("an argument a replay cannot rebuild", args, kwargs)
        key = guards.call_key(template, tensors)
        try:
            entry = self.cache.get(key)
        except TypeError:      # an argument that cannot be hashed: no key, no replay
            return self._run_eagerly("an argument that cannot be hashed", args, kwargs)
        if type(entry) is _Compiled:
            if entry.module_state.holds() and (entry.names_state is None
                                               or entry.names_state.holds()):
                self.replays += 1
                return entry.graph.run(tensors, key[0])
            entry = None     # the modules changed: record again
        elif type(entry) is _Eager:
            return self._run_eagerly(entry.reason, args, kwargs)
        if entry is None and sum(type(e) is not _Eager for e in self.cache.values()) \
                >= self.recompile_limit and key not in self.cache:
            if self.fullgraph:
                raise Unsupported(f"cr.compile(fullgraph=True): recompile_limit "
                                  f"({self.recompile_limit}) reached")
            if not self.warned:      # once, as torch._dynamo warns
                self.warned = True
                warnings.warn(f"cr.compile: recompile_limit ({self.recompile_limit}) reached; "
                              f"calls with new shapes or modes run eagerly", stacklevel=3)
            self.cache[key] = _Eager("recompile_limit reached")
            return self.fn(*args, **kwargs)
        return self._record(key, entry, template, tensors, args, kwargs)

    def _run_eagerly(self, reason, args, kwargs):
        """The call without a replay; with ``fullgraph`` an error naming ``reason`` instead."""
        if self.fullgraph:
            raise Unsupported(f"cr.compile(fullgraph=True) cannot replay this call whole: "
                              f"{reason}")
        return self.fn(*args, **kwargs)

    def _record(self, key, pending, template, tensors, args, kwargs):
        module = self.module
        if module is not None and guards.hooked_module(module) is not None:
            # hooks run in Python: not replayed
            return self._run_eagerly("a module it runs has hooks", args, kwargs)
        rec = Recording(tensors, (), ())      # modules join as they are called
        rec.allow_steps = module is None      # a function may be a whole training step
        try:
            context = recording(rec)
            context.__enter__()
        except Unsafe:             # another thread records: this call stays eager
            return self._run_eagerly("another thread is recording", args, kwargs)
        _state.depth = getattr(_state, "depth", 0) + 1
        try:
            out = self.fn(*args, **kwargs)
        finally:
            _state.depth -= 1
            context.__exit__(None, None, None)
        rec.check_versions()
        rec.check_grads()
        out_tensors = []
        out_template = flatten(out, out_tensors)
        slots = []
        if out_template is BAD:
            rec.fail("the call returned something a replay cannot rebuild")
        for t in out_tensors:
            s = rec.slot_of_output(t)
            if s is None or rec.kinds[s][0] in ("tensor_const", "const"):
                rec.fail("the call returned a tensor that no op inside it made")
            slots.append(s)
        backward = next((e for e in rec.events if type(e) is Backward), None)
        if backward is not None and any(
                rec.kinds[s][0] == "op" and rec.kinds[s][1] >= backward.at and t.requires_grad
                for s, t in zip(slots, out_tensors)):
            rec.fail("the call returned a tensor that requires grad, made after its backward()")
        for m in rec.modules:
            if guards.hooked_module(m) is not None:
                rec.fail("a module the call ran has forward hooks")
        rec.release()
        if rec.unsafe is not None:
            self._eager(key, rec.unsafe)
        elif pending is None:
            self.cache[key] = _Pending(rec, out_template, slots)
        else:
            why = _differences(pending, rec, out_template, slots)
            if why:
                self._eager(key, why)
            else:
                graph = Graph(rec, out_template, slots)
                names = guards.NamesState(self.fn) if module is None else None
                self.cache[key] = _Compiled(graph, guards.ModuleState(rec.modules), names)
        return out

    def __getstate__(self):
        # a copy (copy.deepcopy of a compiled model) records afresh: the recordings point at
        # the original's tensors
        state = dict(self.__dict__)
        state["cache"], state["reasons"], state["replays"] = {}, {}, 0
        return state

    def _eager(self, key, reason):
        self.cache[key] = _Eager(reason)
        self.reasons[key] = reason
        if self.fullgraph:   # the call has run (recorded eagerly); its outputs are not returned
            raise Unsupported(f"cr.compile(fullgraph=True) cannot replay this call whole: "
                              f"{reason}")


def _differences(first, second, template, slots):
    """Why two recordings of one key disagree, or None."""
    a, b = first.rec, second
    if first.template != template or first.slots != slots:
        return "the outputs differ between two calls"
    if len(a.ops) != len(b.ops) or len(a.kinds) != len(b.kinds):
        return "the ops differ between two calls"
    if len(a.events) != len(b.events) or not all(
            ea.same(eb) for ea, eb in zip(a.events, b.events)):
        return "the backward and step calls differ between two calls"
    for ra, rb in zip(a.ops, b.ops):
        if ra.cls is not rb.cls or ra.sources != rb.sources or ra.grad_args != rb.grad_args \
                or ra.tensor_args != rb.tensor_args:
            return f"the ops differ between two calls (at {ra.cls.__name__})"
    for (ka, wa), (kb, wb) in zip(a.kinds, b.kinds):
        if ka != kb:
            return "the ops' arguments differ between two calls"
        if ka == "const" or ka == "tensor_const":
            if not _same_constant(wa, wb):
                return "a constant differs between two calls (a random draw or a value read " \
                       "from the data outside the ops)"
    return None


def _same_constant(x, y):
    if hasattr(x, "array") and hasattr(y, "array"):
        x, y = x.array, y.array
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        return (type(x) is type(y) and x.shape == y.shape and x.dtype == y.dtype
                and np.array_equal(x, y, equal_nan=True))
    if x is y:
        return True
    try:
        return bool(type(x) is type(y) and x == y)
    except Exception:
        return False
