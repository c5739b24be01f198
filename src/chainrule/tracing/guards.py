"""Guards: what must hold for a recorded call to be replayed instead of run.

A guard *key* (grad mode, autocast, the reference switch, and each input's shape, dtype, array
type and requires_grad, with the non-tensor arguments) picks the recording; a *module check*
then confirms that the modules are as they were (same children, parameters and buffers, same
``training`` flags, no forward hooks) and that every parameter and buffer kept its shape,
dtype and requires_grad.
"""
import operator

from ..amp import autocast_mode
from ..autograd import anomaly
from ..autograd.grad_mode import state as grad_state
from ..backends.reference import state as reference_state

_is = operator.is_


def call_key(template, tensors):
    """The key of one call: None when a non-tensor argument cannot be hashed."""
    metas = tuple((t.array.shape, t.array.dtype, type(t.array), t.requires_grad)
                  for t in tensors)
    key = (grad_state.enabled, autocast_mode._state["cpu"][0], autocast_mode._state["cpu"][1],
           reference_state.enabled, template, metas)
    try:
        hash(key)
    except TypeError:
        return None
    return key


def eager_only_reason():
    """A process-wide reason a call must run eagerly (anomaly mode), or None."""
    if anomaly.state.enabled:
        return "anomaly mode is on"
    return None


class ModuleState:
    """The modules under a compiled module as a recording saw them."""

    def __init__(self, root):
        self.entries = []
        self.tensors = []
        for m in root.modules():
            checks = []
            for d in (m._modules, m._parameters, m._buffers):
                checks.append((d, len(d), tuple(d.values())))
            self.entries.append((m, m.training, tuple(checks)))
            for t in list(m._parameters.values()) + list(m._buffers.values()):
                if t is not None:
                    self.tensors.append((t, t.array.shape, t.array.dtype, t.requires_grad))

    def holds(self):
        """Whether the modules are still as recorded (and carry no forward hooks)."""
        for m, training, checks in self.entries:
            if m.training is not training or m._forward_hooks or m._forward_pre_hooks:
                return False
            for d, n, values in checks:
                if len(d) != n or (n and not all(map(_is, d.values(), values))):
                    return False
        for t, shape, dtype, requires_grad in self.tensors:
            a = t.array
            if a.shape != shape or a.dtype is not dtype or t.requires_grad is not requires_grad:
                return False
        return True


def hooked_module(root):
    """The name of a module under ``root`` with forward hooks, or None."""
    for name, m in root.named_modules():
        if m._forward_hooks or m._forward_pre_hooks:
            return name or type(m).__name__
    return None
