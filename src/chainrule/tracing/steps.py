"""The training-step part of a compiled function: ``loss.backward()`` and the calls that update
parameters from their gradients, recorded as *events* between the ops.

A function such as ::

    @cr.compile
    def train_step(x, y):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
        return loss

records its ops as any compiled call does, and besides them, in order: a ``Backward`` event
(the replay runs the recorded ops' backwards from the loss and accumulates into ``.grad``, as
the engine would) and a ``Call`` event for each *step call*: an optimiser's ``step`` and
``zero_grad``, ``Module.zero_grad``, a learning-rate scheduler's ``step``,
``nn.utils.clip_grad_norm_`` and ``clip_grad_value_``. A replay calls those again, the very
methods on the same objects with the same arguments: they are Python over the parameters'
arrays, not ops, and nothing about them is traced.

What stays eager: a backward with arguments (``gradient=``, ``retain_graph``, ``inputs=``),
a second backward, gradients changed between these events by anything else (they are compared
with a copy taken after each event), an op reading a gradient, and a step call with a closure
or with tensors that are not parameters of the modules the call ran.
"""
import inspect

import numpy as np

from ..autograd.tensor_base import TensorBase


class Backward:
    """``root.backward()`` after the first ``at`` recorded ops; ``root`` is a value slot."""

    __slots__ = ("at", "root", "plan")

    def __init__(self, at, root):
        self.at, self.root, self.plan = at, root, None

    def same(self, other):
        return type(other) is Backward and (self.at, self.root) == (other.at, other.root)


class Call:
    """``fn(*args, **kwargs)`` after the first ``at`` recorded ops (``args[0]`` is the object of
    a method: the optimiser, the module, the scheduler)."""

    __slots__ = ("at", "fn", "args", "kwargs")

    def __init__(self, at, fn, args, kwargs):
        self.at, self.fn, self.args, self.kwargs = at, fn, args, kwargs

    def same(self, other):
        return (type(other) is Call and self.at == other.at and self.fn is other.fn
                and _same_arguments(self.args, other.args)
                and self.kwargs.keys() == other.kwargs.keys()
                and all(_same_arguments(self.kwargs[k], other.kwargs[k]) for k in self.kwargs))

    def run(self):
        return self.fn(*self.args, **self.kwargs)


def _same_arguments(a, b):
    if type(a) in (list, tuple):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same_arguments, a, b))
    if a is b:
        return True
    if isinstance(a, TensorBase) or isinstance(b, TensorBase) or type(a) is not type(b):
        return False
    try:
        return bool(a == b)
    except Exception:
        return False


def step_call_arguments(args):
    """``args`` with iterators (``model.parameters()``) made lists, so that a replay passes the
    same parameters again."""
    return tuple(list(a) if hasattr(a, "__next__") else a for a in args)


def step_callables():
    """(owner, attribute name, function) for every step call a recording watches: the methods
    of the optimiser and scheduler classes (each class that defines its own), ``Module``'s
    ``zero_grad`` and the clipping functions where ``nn.utils`` exports them."""
    from ..nn import utils as nn_utils
    from ..nn.module import Module
    from ..nn.utils import clip_grad
    from ..optim.lr_scheduler import LRScheduler
    from ..optim.optimizer import Optimizer
    found = []
    for base, names in ((Optimizer, ("step", "zero_grad")), (LRScheduler, ("step",)),
                        (Module, ("zero_grad",))):
        for cls in _with_subclasses(base):
            for name in names:
                fn = cls.__dict__.get(name)
                if inspect.isfunction(fn):
                    found.append((cls, name, fn))
    for owner in (nn_utils, clip_grad):
        for name in ("clip_grad_norm_", "clip_grad_value_"):
            found.append((owner, name, getattr(owner, name)))
    return found


def _with_subclasses(cls):
    out, todo = [], [cls]
    while todo:
        c = todo.pop()
        if c not in out:
            out.append(c)
            todo.extend(c.__subclasses__())
    return out


class GradSnapshot:
    """The leaves' gradients right after an event, to tell whether something that is not a
    recorded event changed them before the next one (a replay would not repeat it)."""

    def __init__(self, leaves):
        self.entries = [(t, t.grad, None if t.grad is None else t.grad.array.copy())
                        for t in leaves]
        self.grad_ids = {id(g) for _, g, _ in self.entries if g is not None}

    def changed(self):
        for t, g, values in self.entries:
            if t.grad is not g:
                return True
            if g is not None and not (g.array.shape == values.shape and
                                      np.array_equal(g.array, values, equal_nan=True)):
                return True
        return False
