"""``TensorBase``: the fields of a tensor that autograd reads and writes, and ``make_tensor``, the
one way a tensor is built from an array.

``Function`` and the engine build tensors (op outputs, gradients) and check whether an argument
is one, but ``chainrule.tensor`` sits above them: its methods call the ops, which are Functions.
So they work with this base class. ``chainrule.Tensor`` subclasses it, adds the methods, and is
recorded here as the class that ``make_tensor`` builds.
"""

_tensor_class = None   # chainrule.Tensor, recorded by TensorBase.__init_subclass__


def make_tensor(array, cls=None):
    """A new leaf tensor wrapping ``array`` (no copy, no checks): the internal constructor that
    every op output, gradient and view goes through, and ``Tensor(...)`` too.

    ``cls`` is a subclass to build (``Parameter``); by default ``chainrule.Tensor``.
    """
    t = object.__new__(cls or _tensor_class)
    t.array = array
    t.requires_grad = False
    t.grad = None
    t.grad_fn = None
    t._output_nr = 0
    t._version = 0
    t._retains_grad = False
    t._hooks = None
    return t


def increment_version(tensor):
    """Record an in-place write to ``tensor.array`` (PyTorch's
    ``torch.autograd.graph.increment_version``).

    Every node that saved the tensor remembered its version at forward time; backward compares
    and refuses a value that changed since. Call this after each in-place write.
    """
    tensor._version += 1


class TensorBase:
    """What autograd keeps on every tensor.

    ``array``         the NumPy array holding the values
    ``requires_grad`` whether backward computes a gradient for it
    ``grad``          dL/dtensor after backward (a tensor), or None
    ``grad_fn``       the Function node that made it; None for a leaf
    ``_output_nr``    which output of ``grad_fn`` it is (``split`` and ``max(dim)`` have several)
    ``_version``      counts in-place writes (``increment_version``), checked by backward
    ``_retains_grad`` a non-leaf that keeps its ``grad`` (``retain_grad()``)
    ``_hooks``        callables applied to its gradient during backward, or None
    ``_post_accumulate_hooks`` callables run with the tensor after its ``.grad`` was
                      accumulated (left unset, not None, by ``make_tensor``: read with getattr)
    """

    __slots__ = ("array", "requires_grad", "grad", "grad_fn", "_output_nr", "_version",
                 "_retains_grad", "_hooks", "_post_accumulate_hooks", "__weakref__")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        global _tensor_class
        if cls.__base__ is TensorBase:   # Tensor itself; Parameter and Buffer subclass Tensor
            _tensor_class = cls
