"""Shared pieces of the built-in operations: the ``Op`` base and PyTorch's type promotion."""
import weakref

from .. import _dtype
from ..autograd.function import Function
from ..backend import DEVICE_ARRAYS, xp
from ..backends.reference import state as reference_state
from .node_names import NEXT_FUNCTIONS, NODE_NAMES, SHOWS_NONE, SHOWS_SCALARS


class Op(Function):
    """A built-in operation: forward and backward work on raw arrays (``raw = True``).

    An op with a fast path names its reference twin, the sibling whose forward and backward
    follow the lecture's formula literally::

        class Conv2dReference(Op): ...      # im2col -> matmul -> col2im, as on the slides

        class Conv2d(Op):
            reference = Conv2dReference     # the fast layouts; the twin under the switch

    ``Conv2d.apply`` then runs the twin while ``cr.backends.reference()`` is on (or
    ``CHAINRULE_REFERENCE=1``), and its own fast path otherwise. The twin's node prints as the
    op's (``ConvolutionBackward0``), so the two paths differ only in how they compute.
    """

    raw = True
    reference = None

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        # PyTorch's names for chainrule's own ops; an Op a user writes prints its class name
        builtin = cls.__module__.startswith("chainrule.ops.")
        name = NODE_NAMES.get(cls.__name__) if builtin else None
        if callable(name):
            cls._node_name, cls._node_name_of = None, staticmethod(name)
        else:
            cls._node_name = name or (cls.backward_name or cls.__name__) + "Backward0"
            cls._node_name_of = None
        cls._shows_scalars = builtin and cls.__name__ in SHOWS_SCALARS
        cls._shows_none = builtin and cls.__name__ in SHOWS_NONE
        cls._next_functions_of = NEXT_FUNCTIONS.get(cls.__name__) if builtin else None
        twin = cls.__dict__.get("reference")
        if twin is None:
            # A subclass of an op with a twin computes something else: it has no twin unless
            # it names one, and applies directly.
            if cls.reference is not None:
                cls.reference = None
                cls.apply = Function.__dict__["apply"]
            return
        if not (isinstance(twin, type) and issubclass(twin, Op)):
            raise TypeError(f"{cls.__name__}.reference must be an Op subclass, got {twin!r}")
        twin.backward_name = cls.backward_name or cls.__name__   # prints, and errs, as the op
        twin._node_name, twin._node_name_of = cls._node_name, cls.__dict__["_node_name_of"]
        twin._shows_scalars, twin._next_functions_of = cls._shows_scalars, cls._next_functions_of
        twin._shows_none = cls._shows_none
        _OPS_WITH_REFERENCE.add(cls)
        _choose_path(cls, reference_state.enabled)


# The switch re-points each such op's ``apply`` when it changes, instead of every call asking
# which path to take: the fast path then runs exactly as an op without a twin does (a check in
# apply measured ~2.5 us on the 88 us playground step, W1).
_OPS_WITH_REFERENCE = weakref.WeakSet()


def _choose_path(op, reference):
    if reference:
        op.apply = op.reference.apply            # Function.apply, bound to the twin
    elif "apply" in op.__dict__:
        del op.apply                             # back to Function.apply, bound to the op


def _choose_paths(reference):
    for op in list(_OPS_WITH_REFERENCE):
        _choose_path(op, reference)


reference_state.on_change(_choose_paths)


def ops_with_reference():
    """Every op class that has a reference twin (for tests and the docs' inventory)."""
    return sorted(_OPS_WITH_REFERENCE, key=lambda c: (c.__module__, c.__name__))


_CATEGORY = {"b": 0, "u": 1, "i": 1, "f": 2}


def as_float(a):
    """Integer or bool arrays become the default float dtype, as PyTorch does for exp, log, /..."""
    if a.dtype.kind == "f" or a.dtype in _dtype.EXTRA_FLOAT_NP:
        return a
    return a.astype(_dtype.default_float_np())


def promote(a, b):
    """Apply PyTorch's promotion to two operands (arrays or Python scalars) and return them.

    NumPy 2 already keeps ``float32_array * 2.5`` in float32, so only the cases where PyTorch and
    NumPy disagree do work here: an integer tensor with a Python float, int with float tensors
    (PyTorch keeps the float tensor's type), and 0-d tensors, which yield to dimensioned ones of
    the same category.
    """
    ta = type(a)
    tb = type(b)
    a_array = ta is xp.ndarray or ta in DEVICE_ARRAYS
    b_array = tb is xp.ndarray or tb in DEVICE_ARRAYS
    if a_array and b_array:
        if a.dtype == b.dtype:
            return a, b
        return _promote_arrays(a, b)
    if a_array:
        return a if _scalar_fits(a, b) else _scalar_upcast(a, b), b
    if b_array:
        return a, b if _scalar_fits(b, a) else _scalar_upcast(b, a)
    return a, b


def _scalar_fits(arr, s):
    kind = arr.dtype.kind
    if type(s) is float:
        return kind == "f" or arr.dtype in _dtype.EXTRA_FLOAT_NP
    if type(s) is int:
        return kind != "b"
    return True


def _scalar_upcast(arr, s):
    if type(s) is float:
        return arr.astype(_dtype.default_float_np())
    return arr.astype(xp.int64)


def _promote_arrays(a, b):
    ca = _CATEGORY.get(a.dtype.kind, 2)
    cb = _CATEGORY.get(b.dtype.kind, 2)
    za = a.ndim == 0
    zb = b.ndim == 0
    if za != zb:
        dim, zero = (b, a) if za else (a, b)
        cd = _CATEGORY.get(dim.dtype.kind, 2)
        cz = _CATEGORY.get(zero.dtype.kind, 2)
        # A 0-d tensor of a higher category (float vs int, int vs bool) keeps its own dtype:
        # int64 tensor + float64 0-d tensor is float64 in PyTorch, bool + int32 0-d is int32.
        target = dim.dtype if cz <= cd else zero.dtype
    elif ca != cb:
        target = a.dtype if ca > cb else b.dtype
    else:
        target = xp.result_type(a.dtype, b.dtype)
    return a.astype(target, copy=False), b.astype(target, copy=False)


def normalize_dims(dim, ndim, op):
    """``dim`` (None, int, or sequence) -> a sorted tuple of non-negative axes."""
    if dim is None:
        return tuple(range(ndim))
    if isinstance(dim, (list, tuple)):
        dims = tuple(normalize_dim(d, ndim, op) for d in dim)
        if ndim == 0:
            return ()   # a 0-d tensor accepts dim 0 / -1, and there is no axis to reduce
        if len(set(dims)) != len(dims):
            raise RuntimeError(f"{op}: dim {dim} names an axis twice")
        return tuple(sorted(dims))
    d = normalize_dim(dim, ndim, op)
    return (d,) if ndim else ()


def normalize_dim(d, ndim, op):
    """One axis, negative allowed; 0-d tensors accept 0 and -1 as PyTorch does."""
    if not isinstance(d, int) or isinstance(d, bool):
        try:
            d = d.__index__()
        except AttributeError:
            raise TypeError(f"{op}: dim must be an int, got {type(d).__name__}") from None
    n = max(ndim, 1)
    if not -n <= d < n:
        raise IndexError(f"{op}: dim {d} is out of range for a tensor with {ndim} dimensions "
                         f"(expected in [{-n}, {n - 1}])")
    return d % n if ndim else 0
