"""Guards: what must hold for a recorded call to be replayed instead of run.

A guard *key* (grad mode, autocast, the reference switch, the default dtype and device, and each
input's shape, dtype, array type and requires_grad, with the non-tensor arguments) picks the recording; a *module check*
then confirms that the modules are as they were (same children, parameters and buffers, same
``training`` flags, no forward hooks) and that every parameter and buffer kept its shape,
dtype and requires_grad.
"""
import dis
import operator
import types
from itertools import chain

from .. import _dtype
from ..device import get_default_device
from ..amp import autocast_mode
from ..autograd import anomaly
from ..autograd.grad_mode import state as grad_state
from ..backends.reference import state as reference_state
from ..nn import module_changes

_is = operator.is_


def call_key(template, tensors):
    """The key of one call (unhashable when a non-tensor argument is: the caller's cache
    lookup raises TypeError then)."""
    metas = tuple([(t.array.shape, t.array.dtype, type(t.array), t.requires_grad)
                   for t in tensors])
    cpu = autocast_mode._state["cpu"]
    # the default dtype and device decide what tensors made in Python inside the call hold
    return (grad_state.enabled, cpu[0], cpu[1], reference_state.enabled, template, metas,
            _dtype.default_float_np(), get_default_device())


def eager_only_reason():
    """A process-wide reason a call must run eagerly (anomaly mode), or None."""
    if anomaly.state.enabled:
        return "anomaly mode is on"
    return None


class ModuleState:
    """The modules under a compiled module as a recording saw them. ``holds`` runs before every
    replay: while no module has changed (``module_changes``) it checks only the parameters' and
    buffers' arrays and requires_grad; else it compares the whole state, through C-level
    ``map`` calls rather than loops."""

    def __init__(self, roots):
        self.changes = module_changes.changes()
        mods = []
        for root in roots:
            for m in root.modules():
                if not any(m is known for known in mods):
                    mods.append(m)
        self.mods = mods
        # each module's plain attributes (training, p, eps, kernel_size ...): a forward reads
        # them in Python, so a replay holds only while they keep their values
        self.attr_dicts = [m.__dict__ for m in mods]
        self.attr_lens = [len(d) for d in self.attr_dicts]
        self.getters = [(operator.itemgetter(*[k for k, v in d.items() if _plain(v)]), d)
                        for d in self.attr_dicts]
        self.attr_values = [g(d) for g, d in self.getters]
        self.hook_dicts = [d for m in mods for d in (m._forward_hooks, m._forward_pre_hooks)]
        self.dicts = [d for m in mods for d in (m._modules, m._parameters, m._buffers)]
        self.dict_lens = [len(d) for d in self.dicts]
        self.filled = [d for d in self.dicts if d]    # empty ones need only their length
        self.values = list(chain.from_iterable(map(dict.values, self.filled)))
        self.tensors = [t for m in mods for d in (m._parameters, m._buffers)
                        for t in d.values() if t is not None]
        self.arrays = [t.array for t in self.tensors]
        self.metas = [(a.shape, a.dtype, type(a)) for a in self.arrays]
        self.requires = [t.requires_grad for t in self.tensors]

    def holds(self):
        """Whether the modules are still as recorded (and carry no forward hooks)."""
        changes = module_changes.changes()
        if changes == self.changes:
            return self._tensors_hold()
        if not self._modules_hold():
            return False
        self.changes = changes
        return self._tensors_hold()

    def _modules_hold(self):
        if any(self.hook_dicts):
            return False
        if list(map(len, self.attr_dicts)) != self.attr_lens or \
                [g(d) for g, d in self.getters] != self.attr_values:
            return False
        return list(map(len, self.dicts)) == self.dict_lens and all(
            map(_is, chain.from_iterable(map(dict.values, self.filled)), self.values))

    def _tensors_hold(self):
        if list(map(_requires, self.tensors)) != self.requires:
            return False
        if all(map(_is, map(_array, self.tensors), self.arrays)):
            return True
        # an array was replaced (``p.data = ...``, ``.to(device)``): the same shapes, dtypes and
        # array types do
        arrays = [t.array for t in self.tensors]
        if [(a.shape, a.dtype, type(a)) for a in arrays] != self.metas:
            return False
        self.arrays = arrays
        return True


_PLAIN = (bool, int, float, str, type(None))


def _plain(v):
    t = type(v)
    return t in _PLAIN or (t is tuple and all(type(e) in _PLAIN for e in v))


_array = operator.attrgetter("array")
_requires = operator.attrgetter("requires_grad")


class NamesState:
    """The objects a compiled function's code names as globals or closes over: a replay holds
    while each name still refers to the same object (``model`` rebound to a new model records
    again). Names its helpers read are not seen."""

    def __init__(self, fn):
        code = getattr(fn, "__code__", None)
        self.globals = getattr(fn, "__globals__", {})
        self.names = [n for n in _global_names(code) if n in self.globals]
        self.objects = [self.globals[n] for n in self.names]
        self.cells = list(getattr(fn, "__closure__", None) or ())
        self.contents = [_cell(c) for c in self.cells]

    def holds(self):
        g = self.globals
        return (all(map(_is, [g.get(n) for n in self.names], self.objects))
                and all(map(_is, map(_cell, self.cells), self.contents)))


def _global_names(code):
    """The global names ``code`` (and the functions and comprehensions nested in it) reads:
    ``co_names`` also holds attribute names (``opt.step``), which must not be taken for a
    global ``step``."""
    names = []
    todo = [code] if code is not None else []
    while todo:
        c = todo.pop()
        for ins in dis.get_instructions(c):
            if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME") and ins.argval not in names:
                names.append(ins.argval)
        todo.extend(k for k in c.co_consts if isinstance(k, types.CodeType))
    return names


def _cell(c):
    try:
        return c.cell_contents
    except ValueError:      # an empty cell
        return None


def hooked_module(root):
    """The name of a module under ``root`` with forward hooks, or None."""
    for name, m in root.named_modules():
        if m._forward_hooks or m._forward_pre_hooks:
            return name or type(m).__name__
    return None
