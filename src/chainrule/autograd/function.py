"""``Function``: one differentiable operation, its forward and its backward side by side.

Every built-in operation is a subclass; so is any operation a user adds. An instance is both the
``ctx`` that forward stores things on and the graph node (``tensor.grad_fn``) that backward runs.

Two flavours share the engine:

* built-in ops set ``raw = True``: ``forward(ctx, *args)`` receives NumPy arrays where the caller
  passed tensors and returns an array (or a tuple of arrays); ``backward(ctx, *grads)`` receives and
  returns arrays, one gradient (or None) per forward argument.
* user ops (the default, as in PyTorch) receive and return ``Tensor`` objects in both directions.
"""
import numpy as np

from . import anomaly
from .._dtype import EXTRA_FLOAT_NP, is_float_np
from .grad_mode import no_grad, state as _grad_state
from .tensor_base import TensorBase, make_tensor
from ..backend import device_of, is_device_array, to_device

xp_ndarray = np.ndarray


class Function:
    """Base class for differentiable operations (PyTorch's ``torch.autograd.Function``).

    Subclass it with two static methods and call ``apply``::

        class Cube(cr.autograd.Function):
            '''y = x^3, dy/dx = 3 x^2'''
            @staticmethod
            def forward(ctx, x):
                ctx.save_for_backward(x)
                return x ** 3

            @staticmethod
            def backward(ctx, grad):
                (x,) = ctx.saved_tensors
                return grad * 3 * x ** 2

        y = Cube.apply(x)
    """

    raw = False
    # The name grad_fn prints, "<name>Backward" (a user Function, as PyTorch prints it); None for
    # the class name. Built-in ops print PyTorch's names ("MulBackward0", ops/node_names.py):
    # ``_node_name`` is the class's, ``_node_name_of`` a function of the forward arguments for
    # ops whose PyTorch node depends on the call (``AddmmBackward0`` / ``MmBackward0``).
    backward_name = None
    _node_name = None
    _node_name_of = None
    # next_functions: positions of the forward arguments it leaves out (numbers, integer and
    # bool tensors), whether it shows Python numbers (PyTorch wraps them for ``x * 2``) and
    # absent optional tensors (a conv's bias=None) as (None, 0), and an
    # optional function (node, entries) -> entries giving PyTorch's layout of the same call.
    _hidden = ()
    _shows_scalars = False
    _shows_none = False
    _next_functions_of = None
    # The name users call the op by (``mse_loss``), for its error messages; None for the
    # class name in lower case (``add``, ``mul``).
    function_name = None

    # Attributes every recorded node gets in ``apply``:
    #   inputs     the Tensor argument at each position that needs a gradient, else None
    #   _tensors   the tensor arguments, to check their version counters at backward time
    #   _versions  their version counters when forward ran (in-place modification detection)
    #   _n_out     number of outputs; _out_meta: (shape, dtype) of each when more than one
    # Class-level defaults keep the engine's lookups plain attribute reads:
    _watch = None      # {output_nr: tensor} for retain_grad / hooks on non-leaf outputs
    _freed = False     # set once backward has run and released the saved values
    inputs = None

    @classmethod
    def apply(cls, *args):
        arrays = []
        record = False
        on_device = False
        for a in args:
            if isinstance(a, TensorBase):
                arrays.append(a.array)
                if type(a.array) is not xp_ndarray:
                    on_device = True
                if a.requires_grad:
                    record = True
            else:
                arrays.append(a)
        if on_device:
            same_device(cls, args, arrays)
        ctx = cls.__new__(cls)
        if record and _grad_state.enabled:
            inputs = []
            tensors = []
            versions = []
            hidden = None
            for i, a in enumerate(args):
                if isinstance(a, TensorBase):
                    tensors.append(a)
                    versions.append(a._version)
                    if a.requires_grad:
                        inputs.append(a)
                        continue
                    inputs.append(None)
                    if a.array.dtype.kind == "f":
                        continue
                else:
                    inputs.append(None)
                    if a is None:
                        if cls._shows_none:
                            continue
                    elif cls._shows_scalars and isinstance(a, (int, float)):
                        continue
                if hidden is None:
                    hidden = [i]
                else:
                    hidden.append(i)
            ctx.inputs = inputs
            if hidden is not None:
                ctx._hidden = hidden
            ctx._tensors = tensors
            ctx._versions = versions
        else:
            record = False
        if cls.raw:
            try:
                out = cls.forward(ctx, *arrays)
            except ValueError as e:
                if "broadcast" not in str(e):
                    raise
                shapes = " and ".join(str(tuple(a.shape)) for a in arrays if type(a) is np.ndarray)
                op = cls.function_name or (cls.backward_name or cls.__name__).lower()
                raise RuntimeError(f"{op}: shapes {shapes} do not broadcast "
                                   f"together (sizes must be equal or 1 in each trailing "
                                   f"dimension)") from None
        else:
            with no_grad():
                out = cls.forward(ctx, *args)
        multi = type(out) is tuple
        if record and cls._node_name_of is not None:
            ctx.__dict__["_node_name"] = cls._node_name_of(*arrays)
        if anomaly.state.enabled:
            outs = out if multi else (out,)
            if cls._node_name_of is not None and not record:
                ctx.__dict__["_node_name"] = cls._node_name_of(*arrays)
            anomaly.check(ctx.node_name(), "forward",
                          [o.array if isinstance(o, TensorBase) else o for o in outs])
        if not record:
            if type(out) is xp_ndarray:
                return make_tensor(out)
            if multi:
                return tuple([_wrap(o) for o in out])
            return _wrap(out)
        if multi:
            ctx._n_out = len(out)
            outs = tuple([_wrap(o, ctx, i) for i, o in enumerate(out)])
            ctx._out_meta = tuple([(o.array.shape, o.array.dtype) for o in outs])
            return outs
        ctx._n_out = 1
        if type(out) is not xp_ndarray:
            return _wrap(out, ctx, 0)
        # _wrap written out for the common single-array output: this is every op's hot path
        t = make_tensor(out)
        if out.dtype.kind == "f" or out.dtype in EXTRA_FLOAT_NP:   # bfloat16 is kind "V"
            t.requires_grad = True
            t.grad_fn = ctx
        return t

    @property
    def needs_input_grad(self):
        """For each forward argument, whether it needs a gradient (PyTorch's name)."""
        inputs = self.inputs
        if inputs is None:
            return _NOTHING_NEEDED
        return tuple([t is not None for t in inputs])


    # -- ctx API (PyTorch names) -------------------------------------------------------------
    def save_for_backward(self, *tensors):
        self.saved_tensors = tensors

    def mark_non_differentiable(self, *tensors):
        pass

    # -- graph node API ----------------------------------------------------------------------
    def node_name(self):
        """The name this node prints as, PyTorch's (``MulBackward0``; ``CubeBackward`` for a
        user Function)."""
        return self._node_name or (self.backward_name or type(self).__name__) + "Backward"

    def name(self):
        return self.node_name()

    @property
    def next_functions(self):
        """((node, output_nr), ...) for each tensor argument, as PyTorch's
        ``grad_fn.next_functions``: the node that made the input, an ``AccumulateGrad`` for a
        leaf that requires grad (``.variable`` is the leaf), or None for a tensor that needs
        no gradient."""
        inputs = self.inputs or ()
        hidden = self._hidden
        entries = tuple((None, 0) if t is None else
                        (t.grad_fn, t._output_nr) if t.grad_fn is not None else
                        (AccumulateGrad(t), 0)
                        for i, t in enumerate(inputs) if i not in hidden)
        if self._next_functions_of is not None:
            return self._next_functions_of(entries)
        return entries

    def __repr__(self):
        return f"<{self.node_name()} object at {hex(id(self))}>"

    def _run_backward(self, grads):
        """Engine entry for a user Function (the engine calls a built-in op's backward on the
        arrays itself): gradients w.r.t. outputs (arrays) -> gradients w.r.t. inputs (arrays),
        wrapped in tensors for the user's backward and unwrapped after it."""
        res = type(self).backward(self, *[None if g is None else make_tensor(g) for g in grads])
        if type(res) is not tuple:
            res = (res,)
        return tuple(r.array if isinstance(r, TensorBase) else (None if r is None else np.asarray(r))
                     for r in res)


class AccumulateGrad:
    """The graph's end point for a leaf: backward adds the gradient into ``variable.grad``."""

    __slots__ = ("variable",)
    next_functions = ()

    def __init__(self, variable):
        self.variable = variable

    @staticmethod
    def node_name():
        return "AccumulateGrad"

    def name(self):
        return "AccumulateGrad"

    def __eq__(self, other):
        return isinstance(other, AccumulateGrad) and other.variable is self.variable

    def __hash__(self):
        return id(self.variable)

    def __repr__(self):
        return f"<AccumulateGrad object at {hex(id(self))}>"


def _wrap(out, ctx=None, output_nr=0):
    """Output ``output_nr`` of a forward (an array or a tensor) as a new tensor, made by ``ctx``
    when the call is recorded."""
    if isinstance(out, TensorBase):
        arr = out.array
    else:
        arr = out if type(out) is np.ndarray or is_device_array(out) else np.asarray(out)
    t = make_tensor(arr)
    if ctx is not None and is_float_np(arr.dtype):  # integer outputs (indices) carry no gradient
        t.requires_grad = True
        t.grad_fn = ctx
        t._output_nr = output_nr
    return t


def same_device(op, args, arrays):
    """Check the tensor arguments share one device, as PyTorch does before any kernel runs;
    a 0-d CPU tensor (a number held as a tensor) joins the others' device, as in PyTorch."""
    devices = []
    for i, a in enumerate(args):
        if isinstance(a, TensorBase):
            d = device_of(a.array)
            if d not in devices:
                devices.append(d)
    if len(devices) == 1:
        return
    place = next(d for d in devices if d[0] != "cpu")
    if len(devices) == 2 and ("cpu", None) in devices:
        scalars = [i for i, a in enumerate(args) if isinstance(a, TensorBase)
                   and type(a.array) is np.ndarray]
        if all(args[i].array.ndim == 0 for i in scalars):
            for i in scalars:
                arrays[i] = to_device(arrays[i], *place)
            return
    names = [t if i is None else f"{t}:{i}" for t, i in devices]
    name = op.function_name or (op.backward_name or op.__name__).lower()
    raise RuntimeError(f"Expected all tensors to be on the same device, but found at least two "
                       f"devices, {names[0] if devices[0] != ('cpu', None) else names[1]} and "
                       f"{names[1] if devices[0] != ('cpu', None) else names[0]}! (in {name})")


def once_differentiable(fn):
    """Kept for PyTorch compatibility: chainrule's backward never builds a graph anyway."""
    return fn


class _NothingNeeded(tuple):
    """``needs_input_grad`` of an unrecorded call: False at every position."""

    def __getitem__(self, i):
        return False


_NOTHING_NEEDED = _NothingNeeded()
