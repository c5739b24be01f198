"""``Tensor``: an n-dimensional array that remembers how it was computed.

``tensor.array`` is the NumPy array holding the values (Chainer's name); ``grad_fn`` is the node
that made it (None for leaves); ``grad`` receives dL/dtensor after ``backward()``. Operators and
methods are thin wrappers over the ops in ``chainrule.ops``, each a ``Function`` subclass.
"""
import collections
import numbers

import numpy as np

from . import _dtype
from ._format import format_tensor
from .autograd.engine import accumulate_grads, root_gradients, run_backward
from .autograd.engine import POST_ACCUMULATE_HOOKS
from .autograd.grad_mode import state as _grad_state
from .autograd.tensor_base import TensorBase, increment_version, make_tensor
from .backend import as_array, device_of, is_device_array, placed_like, to_device, to_host
from .device import AVAILABLE_TYPES, CPU, ENABLERS, check_available, device
from .index_parsing import describe_index, normalise_index, split_integer_selects
from .ops.diagonal import Diag
from .ops import activation, elementwise, indexing, linalg, reduction
from .ops import inplace as inplace_ops
from .ops import device_copy
from .ops.shape import (Expand, Flatten, Flip, Permute, Repeat, Reshape, Roll, Split, Squeeze,
                        Transpose, Unbind, Unflatten, Unsqueeze, View)
from .ops.shape import Triangle
from .ops.base import normalize_dim, normalize_dims, promote
from .random import rng
from .size import Size

_FROM_NP = _dtype._FROM_NP

values_indices = collections.namedtuple("values_indices", ["values", "indices"])


def _shape_args(shape, op):
    """Accept ``f(2, 3)``, ``f((2, 3))`` and ``f([2, 3])`` as PyTorch does."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list, Size)):
        shape = tuple(shape[0])
    try:
        return tuple(int(s.__index__()) for s in shape)
    except (AttributeError, TypeError):
        raise TypeError(f"{op}: sizes must be ints, got {shape!r}") from None


class Tensor(TensorBase):
    """An n-dimensional array with reverse-mode automatic differentiation.

    >>> x = cr.tensor(-2.0, requires_grad=True); y = cr.tensor(5.0, requires_grad=True)
    >>> z = cr.tensor(-4.0, requires_grad=True)
    >>> f = (x + y) * z
    >>> f.backward()
    >>> x.grad, y.grad, z.grad
    (tensor(-4.), tensor(-4.), tensor(3.))
    """

    __slots__ = ()   # the fields are TensorBase's
    __array_ufunc__ = None  # NumPy operators defer to ours: np.float32(2) * t stays a Tensor
    __hash__ = object.__hash__

    def __new__(cls, data=(), dtype=None, requires_grad=False):
        arr = np.array(to_host(data.array) if isinstance(data, Tensor) else data,
                       dtype=_dtype.to_numpy_dtype(dtype) or _dtype.default_float_np())
        t = make_tensor(arr, cls)
        if requires_grad:
            t.requires_grad_(True)
        return t

    # -- attributes --------------------------------------------------------------------------
    @property
    def shape(self):
        return Size(self.array.shape)

    @property
    def dtype(self):
        return _FROM_NP[self.array.dtype]

    @property
    def device(self):
        if type(self.array) is np.ndarray:
            return CPU
        return device(*device_of(self.array))

    @property
    def ndim(self):
        return self.array.ndim

    @property
    def is_leaf(self):
        return self.grad_fn is None

    @property
    def data(self):
        """A tensor sharing this one's values but outside the graph (PyTorch's ``.data``)."""
        return make_tensor(self.array)

    @data.setter
    def data(self, value):
        arr = value.array if isinstance(value, Tensor) else as_array(value)
        self.array = arr

    @property
    def T(self):
        if self.ndim <= 2:
            return self.t() if self.ndim == 2 else self
        return self.permute(*reversed(range(self.ndim)))

    @property
    def mT(self):
        if self.ndim < 2:
            raise RuntimeError(f"mT: expected a tensor with 2 or more dimensions, got shape "
                               f"{tuple(self.shape)}")
        return self.transpose(-2, -1)

    @property
    def is_cuda(self):
        return type(self.array) is not np.ndarray and device_of(self.array)[0] == "cuda"

    @property
    def itemsize(self):
        return self.array.itemsize

    def element_size(self):
        return self.array.itemsize

    def is_floating_point(self):
        return _dtype.is_float_np(self.array.dtype)

    def numel(self):
        return self.array.size

    nelement = numel

    def size(self, dim=None):
        if dim is None:
            return self.shape
        return self.array.shape[normalize_dim(dim, self.ndim, "size")]

    def dim(self):
        return self.array.ndim

    def item(self):
        if self.array.size != 1:
            raise RuntimeError(f"item: a Tensor with {self.array.size} elements cannot be converted "
                               f"to a Python number (shape {tuple(self.shape)})")
        return self.array.item()

    def tolist(self):
        return self.array.tolist()

    def numpy(self, force=False):
        if self.requires_grad and not force:
            raise RuntimeError("Can't call numpy() on Tensor that requires grad. "
                               "Use tensor.detach().numpy() instead.")
        if is_device_array(self.array):
            if force:
                return to_host(self.array)
            _raise_not_on_host(self)
        return self.array

    def __array__(self, dtype=None, copy=None):
        if is_device_array(self.array):
            _raise_not_on_host(self)
        if dtype is not None:
            return self.array.astype(dtype)
        return self.array.copy() if copy else self.array

    def cpu(self, memory_format=None):
        if is_device_array(self.array):
            return self.to("cpu")
        return self

    def contiguous(self):
        return self

    def is_contiguous(self):
        return bool(self.array.flags.c_contiguous)

    def data_ptr(self):
        return self.array.__array_interface__["data"][0]

    def storage_offset(self):
        return 0

    # -- autograd ----------------------------------------------------------------------------
    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        """Compute d(self)/d(leaf) for every leaf that requires grad and add it to ``leaf.grad``
        (only for the leaves in ``inputs``, when given)."""
        if create_graph:
            raise RuntimeError("backward(create_graph=True): chainrule computes gradients on raw "
                               "arrays, so higher-order derivatives are not available")
        seeds = root_gradients((self,), (gradient,), "gradient", "backward")
        if inputs is None:
            run_backward((self,), seeds, retain_graph=bool(retain_graph))
            return
        inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
        grads = run_backward((self,), seeds, retain_graph=bool(retain_graph), capture=inputs)
        accumulate_grads([(t, g) for t, g in zip(inputs, grads) if g is not None])

    def detach(self):
        return make_tensor(self.array)

    def detach_(self):
        self.grad_fn = None
        self.requires_grad = False
        return self

    def clone(self, memory_format=None):
        return elementwise.Copy.apply(self)

    def requires_grad_(self, requires_grad=True):
        if requires_grad and not _dtype.is_float_np(self.array.dtype):
            raise RuntimeError(f"only tensors of floating point dtype can require gradients, got "
                               f"{self.dtype}")
        if not requires_grad and self.grad_fn is not None:
            raise RuntimeError("requires_grad_(False) on a non-leaf tensor: use detach() instead")
        self.requires_grad = bool(requires_grad)
        return self

    def retain_grad(self):
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        if not self.requires_grad:
            raise RuntimeError("can't retain_grad on a tensor that has requires_grad=False")
        if self.grad_fn is None:
            return
        self._retains_grad = True
        self._watch()

    @property
    def retains_grad(self):
        return self._retains_grad

    def register_hook(self, hook):
        """Call ``hook(grad)`` with this tensor's gradient during backward; a returned tensor
        replaces the gradient. Returns a handle with ``remove()``."""
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(hook)
        if self.grad_fn is not None:
            self._watch()
        return _HookHandle(self._hooks, hook)

    def register_post_accumulate_grad_hook(self, hook):
        """Call ``hook(tensor)`` on this leaf after backward accumulated its gradient into
        ``.grad`` (as soon as its last use in the graph is done). Returns a handle with
        ``remove()``."""
        if self.grad_fn is not None:
            raise RuntimeError("post accumulate grad hooks cannot be registered on non-leaf "
                               "tensors")
        if not self.requires_grad:
            raise RuntimeError("cannot register a hook on a tensor that doesn't require gradient")
        hooks = getattr(self, "_post_accumulate_hooks", None)
        if hooks is None:
            hooks = self._post_accumulate_hooks = []
        hooks.append(hook)
        POST_ACCUMULATE_HOOKS[0] += 1
        return _HookHandle(hooks, hook)

    def _watch(self):
        node = self.grad_fn
        watch = node.__dict__.get("_watch")
        if watch is None:
            watch = node._watch = {}
        watch[self._output_nr] = self

    # -- conversion --------------------------------------------------------------------------
    def to(self, *args, **kwargs):
        """PyTorch's three forms: ``to(device=None, dtype=None, non_blocking=False, copy=False)``,
        ``to(dtype, non_blocking=False, copy=False)`` and ``to(other, non_blocking=False,
        copy=False)`` (other's dtype and device). Returns ``self`` when nothing changes, unless
        ``copy=True``; a dtype change is an op in the graph."""
        dev, dtype, copy = _parse_to(args, kwargs, "to")
        if dev is not None:
            dev = check_available(dev, "to")
            here = self.device
            moves = dev.type != here.type or (dev.index not in (None, here.index)
                                              and here.index is not None)
            if moves:
                moved = device_copy.ToCopy.apply(self, dev.type, dev.index)
                return moved if dtype is None else moved.to(dtype)
        nd = None if dtype is None else _dtype.to_numpy_dtype(dtype)
        if nd is None or nd == self.array.dtype:
            return elementwise.Copy.apply(self) if copy else self
        if self.requires_grad and not _dtype.is_float_np(nd):
            return make_tensor(self.array.astype(nd))
        return elementwise.Cast.apply(self, nd)

    def cuda(self, device=None, non_blocking=False, memory_format=None):
        """A copy on the GPU (itself when already there); raises PyTorch's CPU-build error where
        CUDA is not available."""
        if isinstance(device, int) and not isinstance(device, bool):
            device = f"cuda:{device}"
        return self.to(check_available(device or "cuda", "cuda"))

    def get_device(self):
        """The device index; -1 for the CPU, as PyTorch."""
        index = self.device.index
        return -1 if index is None else index

    def is_pinned(self, device=None):
        return False

    def pin_memory(self, device=None):
        """Itself where CUDA is available (chainrule copies to the GPU from ordinary memory; the
        call only exists to speed copies up); PyTorch's CPU-build error otherwise."""
        enable = ENABLERS.get("cuda")
        if "cuda" in AVAILABLE_TYPES or (enable is not None and enable()):
            return self
        raise RuntimeError("pin_memory: Cannot access accelerator device when none is available "
                           "(pinned memory speeds host-to-GPU copies; chainrule has no GPU here)")

    def bfloat16(self):
        return self.to(_dtype.bfloat16)

    def type(self, dtype=None):
        if dtype is None:
            return f"chainrule.{self.dtype.name}"
        return self.to(dtype)

    def float(self):
        return self.to(_dtype.float32)

    def double(self):
        return self.to(_dtype.float64)

    def half(self):
        return self.to(_dtype.float16)

    def long(self):
        return self.to(_dtype.int64)

    def int(self):
        return self.to(_dtype.int32)

    def bool(self):
        return self.to(_dtype.bool)

    def type_as(self, other):
        """Cast to ``other``'s type, which for PyTorch includes its device (a CUDA type)."""
        return self.to(other.device, other.dtype)

    # -- Python protocol ---------------------------------------------------------------------
    def __repr__(self):
        return format_tensor(self)

    def __len__(self):
        if self.array.ndim == 0:
            raise TypeError("len() of a 0-d tensor")
        return self.array.shape[0]

    def __iter__(self):
        if self.array.ndim == 0:
            raise TypeError("iteration over a 0-d tensor")
        return iter(self.unbind(0))

    def __bool__(self):
        if self.array.size != 1:
            raise RuntimeError(f"Boolean value of Tensor with more than one value is ambiguous "
                               f"(shape {tuple(self.shape)})")
        return bool(self.array.item())

    def __float__(self):
        return float(self.item())

    def __int__(self):
        return int(self.item())

    def __index__(self):
        if self.array.dtype.kind not in "iub" or self.array.size != 1:
            raise TypeError("only integer tensors of a single element can be converted to an index")
        return int(self.array.item())

    def __complex__(self):
        return complex(self.item())

    def __format__(self, spec):
        if self.array.ndim == 0:
            return self.item().__format__(spec)
        return object.__format__(self, spec)

    def __reduce_ex__(self, protocol):
        return (Tensor, (self.array, self.array.dtype, self.requires_grad))

    def __deepcopy__(self, memo):
        t = make_tensor(self.array.copy())
        t.requires_grad = self.requires_grad
        if self.grad is not None:
            t.grad = make_tensor(self.grad.array.copy())
        memo[id(self)] = t
        return t

    # -- arithmetic operators ----------------------------------------------------------------
    def __add__(self, other):
        return elementwise.Add.apply(self, other)

    def __radd__(self, other):
        return elementwise.Add.apply(other, self)

    def __sub__(self, other):
        return elementwise.Sub.apply(self, other)

    def __rsub__(self, other):
        return elementwise.Sub.apply(other, self)

    def __mul__(self, other):
        return elementwise.Mul.apply(self, other)

    def __rmul__(self, other):
        return elementwise.Mul.apply(other, self)

    def __truediv__(self, other):
        return elementwise.Div.apply(self, other)

    def __rtruediv__(self, other):
        return elementwise.Div.apply(other, self)

    def __pow__(self, other):
        return elementwise.Pow.apply(self, other)

    def __rpow__(self, other):
        return elementwise.Pow.apply(other, self)

    def __matmul__(self, other):
        return linalg.MatMul.apply(self, other)

    def __rmatmul__(self, other):
        return linalg.MatMul.apply(other, self)

    def __neg__(self):
        return elementwise.Neg.apply(self)

    def __pos__(self):
        return self

    def __abs__(self):
        return elementwise.Abs.apply(self)

    def __floordiv__(self, other):
        return _nondiff(np.floor_divide, self, other)

    def __rfloordiv__(self, other):
        return _nondiff(np.floor_divide, other, self)

    def __mod__(self, other):
        return self.remainder(other)

    def __rmod__(self, other):
        return elementwise.Remainder.apply(other, self)

    # Augmented assignment is in place, as in PyTorch: on a tensor in a graph (or with an operand
    # that requires grad) it records the op, the tensor taking the new node (``_record_inplace``).
    def __iadd__(self, other):
        return self.add_(other)

    def __isub__(self, other):
        return self.sub_(other)

    def __imul__(self, other):
        return self.mul_(other)

    def __itruediv__(self, other):
        return self.div_(other)

    # -- comparisons (not differentiable) -----------------------------------------------------
    def __eq__(self, other):
        return _nondiff(np.equal, self, other)

    def __ne__(self, other):
        return _nondiff(np.not_equal, self, other)

    def __lt__(self, other):
        return _nondiff(np.less, self, other)

    def __le__(self, other):
        return _nondiff(np.less_equal, self, other)

    def __gt__(self, other):
        return _nondiff(np.greater, self, other)

    def __ge__(self, other):
        return _nondiff(np.greater_equal, self, other)

    def __invert__(self):
        if self.array.dtype.kind == "b":
            return make_tensor(~self.array)
        if self.array.dtype.kind in "iu":
            return make_tensor(np.invert(self.array))
        raise TypeError(f"~ (bitwise not) expects a bool or integer tensor, got {self.dtype}")

    def __and__(self, other):
        return _nondiff(np.bitwise_and, self, other)

    __rand__ = __and__

    def __or__(self, other):
        return _nondiff(np.bitwise_or, self, other)

    __ror__ = __or__

    def __xor__(self, other):
        return _nondiff(np.bitwise_xor, self, other)

    __rxor__ = __xor__

    eq = __eq__
    ne = __ne__
    lt = __lt__
    le = __le__
    gt = __gt__
    ge = __ge__
    greater = __gt__
    less = __lt__

    def equal(self, other):
        return self.array.shape == other.array.shape and bool((self.array == other.array).all())

    def allclose(self, other, rtol=1e-05, atol=1e-08, equal_nan=False):
        return bool(np.allclose(self.array, _raw(other), rtol=rtol, atol=atol, equal_nan=equal_nan))

    def isnan(self):
        return make_tensor(np.isnan(self.array))

    def isinf(self):
        return make_tensor(np.isinf(self.array))

    def isfinite(self):
        return make_tensor(np.isfinite(self.array))

    def logical_not(self):
        return make_tensor(np.logical_not(self.array))

    def logical_and(self, other):
        return _nondiff(np.logical_and, self, other)

    def logical_or(self, other):
        return _nondiff(np.logical_or, self, other)

    # -- elementwise methods -----------------------------------------------------------------
    def add(self, other, alpha=1):
        return elementwise.Add.apply(self, other if alpha == 1 else other * alpha)

    def sub(self, other, alpha=1):
        return elementwise.Sub.apply(self, other if alpha == 1 else other * alpha)

    subtract = sub

    def mul(self, other):
        return elementwise.Mul.apply(self, other)

    multiply = mul

    def div(self, other, rounding_mode=None):
        if rounding_mode is None:
            return elementwise.Div.apply(self, other)
        fn = np.floor_divide if rounding_mode == "floor" else _trunc_divide
        return _nondiff(fn, self, other)

    divide = div
    true_divide = div

    def pow(self, exponent):
        return elementwise.Pow.apply(self, exponent)

    def remainder(self, other):
        return elementwise.Remainder.apply(self, other)

    def neg(self):
        return elementwise.Neg.apply(self)

    negative = neg

    def exp(self):
        return elementwise.Exp.apply(self)

    def log(self):
        return elementwise.Log.apply(self)

    def log1p(self):
        return elementwise.Log1p.apply(self)

    def expm1(self):
        return elementwise.Expm1.apply(self)

    def log2(self):
        return elementwise.Log.apply(self) / float(np.log(2.0))

    def log10(self):
        return elementwise.Log.apply(self) / float(np.log(10.0))

    def sqrt(self):
        return elementwise.Sqrt.apply(self)

    def rsqrt(self):
        return elementwise.Rsqrt.apply(self)

    def abs(self):
        return elementwise.Abs.apply(self)

    absolute = abs

    def sign(self):
        return elementwise.Sign.apply(self)

    def sin(self):
        return elementwise.Sin.apply(self)

    def cos(self):
        return elementwise.Cos.apply(self)

    def tanh(self):
        return activation.Tanh.apply(self)

    def sigmoid(self):
        return activation.Sigmoid.apply(self)

    def relu(self):
        return activation.ReLU.apply(self)

    def reciprocal(self):
        return elementwise.Reciprocal.apply(self)

    def square(self):
        return elementwise.Square.apply(self)

    def clamp(self, min=None, max=None):
        if min is None and max is None:
            raise RuntimeError("clamp: at least one of 'min' or 'max' must not be None")
        if isinstance(min, Tensor) or isinstance(max, Tensor):
            return elementwise.ClampTensor.apply(self, min, max)
        return elementwise.Clamp.apply(self, min, max)

    clip = clamp

    def clamp_min(self, min):
        return self.clamp(min=min)

    def clamp_max(self, max):
        return self.clamp(max=max)

    def maximum(self, other):
        return elementwise.Maximum.apply(self, other)

    def minimum(self, other):
        return elementwise.Minimum.apply(self, other)

    def where(self, condition, other):
        return elementwise.Where.apply(_bool_arg(condition, "where"), self, other)

    def floor(self):
        return make_tensor(np.floor(self.array))

    def ceil(self):
        return make_tensor(np.ceil(self.array))

    def round(self, decimals=0):
        return make_tensor(np.round(self.array, decimals))

    def trunc(self):
        return make_tensor(np.trunc(self.array))

    # -- reductions --------------------------------------------------------------------------
    def sum(self, dim=None, keepdim=False, dtype=None):
        x = self if dtype is None else self.to(dtype)
        return reduction.Sum.apply(x, normalize_dims(dim, x.ndim, "sum"), keepdim)

    def mean(self, dim=None, keepdim=False, dtype=None):
        x = self if dtype is None else self.to(dtype)
        return reduction.Mean.apply(x, normalize_dims(dim, x.ndim, "mean"), keepdim)

    def var(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        dims = None if dim is None else normalize_dims(dim, self.ndim, "var")
        return reduction.Var.apply(self, dims,
                           _correction(unbiased, correction), keepdim)

    def std(self, dim=None, unbiased=None, keepdim=False, *, correction=None):
        return reduction.Std.apply(self, normalize_dims(dim, self.ndim, "std"),
                           _correction(unbiased, correction), keepdim)

    def max(self, dim=None, keepdim=False):
        if isinstance(dim, Tensor):
            return elementwise.Maximum.apply(self, dim)
        if dim is None:
            return reduction.MaxAll.apply(self, normalize_dims(None, self.ndim, "max"), False)
        return values_indices(*reduction.MaxDim.apply(self, normalize_dim(dim, self.ndim, "max"), keepdim))

    def min(self, dim=None, keepdim=False):
        if isinstance(dim, Tensor):
            return elementwise.Minimum.apply(self, dim)
        if dim is None:
            return reduction.MinAll.apply(self, normalize_dims(None, self.ndim, "min"), False)
        return values_indices(*reduction.MinDim.apply(self, normalize_dim(dim, self.ndim, "min"), keepdim))

    def amax(self, dim=(), keepdim=False):
        return reduction.Amax.apply(self, normalize_dims(dim if dim != () else None, self.ndim, "amax"), keepdim)

    def amin(self, dim=(), keepdim=False):
        return reduction.Amin.apply(self, normalize_dims(dim if dim != () else None, self.ndim, "amin"), keepdim)

    def logsumexp(self, dim, keepdim=False):
        return reduction.LogSumExp.apply(self, normalize_dims(dim, self.ndim, "logsumexp"), keepdim)

    def prod(self, dim=None, keepdim=False, dtype=None):
        x = self if dtype is None else self.to(dtype)
        d = None if dim is None else normalize_dim(dim, x.ndim, "prod")
        return reduction.Prod.apply(x, d, keepdim)

    def norm(self, p="fro", dim=None, keepdim=False, dtype=None):
        if p == "fro":
            p = 2
        elif not isinstance(p, numbers.Number):
            raise ValueError(f"norm: p must be a number, 'fro', inf or -inf; got {p!r}")
        x = self if dtype is None else self.to(dtype)
        return reduction.Norm.apply(x, float(p), normalize_dims(dim, x.ndim, "norm"), keepdim)

    def cumsum(self, dim, dtype=None):
        x = self if dtype is None else self.to(dtype)
        return reduction.Cumsum.apply(x, normalize_dim(dim, x.ndim, "cumsum"))

    def softmax(self, dim, dtype=None):
        x = self if dtype is None else self.to(dtype)
        return activation.Softmax.apply(x, normalize_dim(dim, x.ndim, "softmax"))

    def log_softmax(self, dim, dtype=None):
        x = self if dtype is None else self.to(dtype)
        return activation.LogSoftmax.apply(x, normalize_dim(dim, x.ndim, "log_softmax"))

    def argmax(self, dim=None, keepdim=False):
        return _arg_reduce(np.argmax, self, dim, keepdim, "argmax")

    def argmin(self, dim=None, keepdim=False):
        return _arg_reduce(np.argmin, self, dim, keepdim, "argmin")

    def all(self, dim=None, keepdim=False):
        axes = None if dim is None else normalize_dims(dim, self.ndim, "all")
        return make_tensor(as_array(self.array.all(axis=axes, keepdims=keepdim)))

    def any(self, dim=None, keepdim=False):
        axes = None if dim is None else normalize_dims(dim, self.ndim, "any")
        return make_tensor(as_array(self.array.any(axis=axes, keepdims=keepdim)))

    def count_nonzero(self, dim=None):
        axes = None if dim is None else normalize_dims(dim, self.ndim, "count_nonzero")
        return make_tensor(as_array(np.count_nonzero(self.array, axis=axes), np.int64))

    def topk(self, k, dim=-1, largest=True, sorted=True):
        d = normalize_dim(dim, self.ndim, "topk")
        return values_indices(*reduction.TopK.apply(self, int(k), d, largest, sorted))

    def sort(self, dim=-1, descending=False, stable=False):
        d = normalize_dim(dim, self.ndim, "sort")
        n = self.array.shape[d] if self.ndim else 1
        return values_indices(*reduction.TopK.apply(self, n, d, descending, True))

    def argsort(self, dim=-1, descending=False, stable=False):
        return self.sort(dim, descending).indices

    # -- shape -------------------------------------------------------------------------------
    def reshape(self, *shape):
        return Reshape.apply(self, _infer_shape(self, _shape_args(shape, "reshape"), "reshape"))

    def view(self, *shape):
        if len(shape) == 1 and isinstance(shape[0], (_dtype.dtype, np.dtype)):
            return make_tensor(self.array.view(_dtype.to_numpy_dtype(shape[0])))
        return View.apply(self, _infer_shape(self, _shape_args(shape, "view"), "view"))

    def view_as(self, other):
        return self.view(other.shape)

    def reshape_as(self, other):
        return self.reshape(other.shape)

    def flatten(self, start_dim=0, end_dim=-1):
        if self.ndim == 0:
            return Flatten.apply(self, (1,))
        s = normalize_dim(start_dim, self.ndim, "flatten")
        e = normalize_dim(end_dim, self.ndim, "flatten")
        if s > e:
            raise RuntimeError(f"flatten: start_dim ({start_dim}) comes after end_dim ({end_dim})")
        shp = self.array.shape
        n = 1
        for d in shp[s:e + 1]:
            n *= d
        return Flatten.apply(self, shp[:s] + (n,) + shp[e + 1:])

    def unflatten(self, dim, sizes):
        d = normalize_dim(dim, self.ndim, "unflatten")
        shp = self.array.shape
        sizes = tuple(sizes)
        if -1 in sizes:
            known = 1
            for s in sizes:
                if s != -1:
                    known *= s
            sizes = tuple(shp[d] // known if s == -1 else s for s in sizes)
        n = 1
        for s in sizes:
            n *= s
        if n != shp[d]:
            raise RuntimeError(f"unflatten: sizes {sizes} multiply to {n}, but dimension {dim} of "
                               f"shape {tuple(shp)} has {shp[d]} elements")
        return Unflatten.apply(self, shp[:d] + sizes + shp[d + 1:])

    def squeeze(self, dim=None):
        shp = self.array.shape
        if dim is None:
            new = tuple(s for s in shp if s != 1)
        else:
            dims = normalize_dims(dim, self.ndim, "squeeze")
            new = tuple(s for i, s in enumerate(shp) if not (i in dims and s == 1))
        return Squeeze.apply(self, new)

    def unsqueeze(self, dim):
        d = normalize_dim(dim, self.ndim + 1, "unsqueeze")
        shp = self.array.shape
        return Unsqueeze.apply(self, shp[:d] + (1,) + shp[d:])

    def permute(self, *dims):
        dims = _shape_args(dims, "permute")
        if len(dims) != self.ndim:
            raise RuntimeError(f"permute: got {len(dims)} dims {dims} for a tensor with "
                               f"{self.ndim} dimensions")
        dims = tuple(normalize_dim(d, self.ndim, "permute") for d in dims)
        if sorted(dims) != list(range(self.ndim)):
            raise RuntimeError(f"permute: dims {dims} are not a permutation of "
                               f"{tuple(range(self.ndim))}")
        return Permute.apply(self, dims)

    def transpose(self, dim0, dim1):
        if self.ndim == 0:
            return self
        return Transpose.apply(self, normalize_dim(dim0, self.ndim, "transpose"),
                                 normalize_dim(dim1, self.ndim, "transpose"))

    swapaxes = transpose

    def t(self):
        if self.ndim > 2:
            raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, got shape "
                               f"{tuple(self.shape)}; use transpose(dim0, dim1)")
        if self.ndim < 2:
            return self
        return Transpose.apply(self, 0, 1)

    def expand(self, *sizes):
        sizes = _shape_args(sizes, "expand")
        shp = self.array.shape
        if len(sizes) < len(shp):
            raise RuntimeError(f"expand: the number of sizes ({len(sizes)}) must be at least the "
                               f"tensor's dimensions ({len(shp)}), shape {tuple(shp)}")
        lead = len(sizes) - len(shp)
        target = tuple(shp[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes))
        return self.broadcast_to(target)

    def expand_as(self, other):
        return self.broadcast_to(other.shape)

    def broadcast_to(self, *shape):
        shape = _shape_args(shape, "broadcast_to")
        if shape == self.array.shape:
            return self
        try:
            np.broadcast_shapes(self.array.shape, shape)
            if np.broadcast_shapes(self.array.shape, shape) != shape:
                raise ValueError
        except ValueError:
            raise RuntimeError(f"expand: shape {tuple(self.shape)} cannot be broadcast to "
                               f"{shape}") from None
        return Expand.apply(self, shape)

    def repeat(self, *sizes):
        sizes = _shape_args(sizes, "repeat")
        if len(sizes) < self.ndim:
            raise RuntimeError(f"repeat: number of repeat dims ({len(sizes)}) can not be smaller "
                               f"than the tensor's dimensions ({self.ndim})")
        return Repeat.apply(self, sizes)

    def flip(self, *dims):
        dims = _shape_args(dims, "flip")
        return Flip.apply(self, normalize_dims(dims, self.ndim, "flip"))

    def roll(self, shifts, dims=None):
        if dims is None:
            return Roll.apply(self.flatten(), shifts, 0).reshape(self.shape)
        if isinstance(shifts, (list, tuple)):
            return Roll.apply(self, tuple(shifts),
                                tuple(normalize_dim(d, self.ndim, "roll") for d in dims))
        return Roll.apply(self, shifts, normalize_dim(dims, self.ndim, "roll"))

    def split(self, split_size_or_sections, dim=0):
        d = normalize_dim(dim, self.ndim, "split")
        n = self.array.shape[d]
        if isinstance(split_size_or_sections, int):
            step = split_size_or_sections
            if step <= 0:
                raise RuntimeError(f"split: split_size must be positive, got {step}")
            sizes = [step] * (n // step) + ([n % step] if n % step else [])
        else:
            sizes = list(split_size_or_sections)
            if sum(sizes) != n:
                raise RuntimeError(f"split: sections {sizes} add up to {sum(sizes)}, but dimension "
                                   f"{dim} has size {n}")
        bounds = list(np.cumsum(sizes)[:-1])
        out = Split.apply(self, bounds, d)
        return out if isinstance(out, tuple) else (out,)

    def chunk(self, chunks, dim=0):
        d = normalize_dim(dim, self.ndim, "chunk")
        n = self.array.shape[d]
        step = -(-n // chunks)
        return self.split(max(step, 1), d)

    def unbind(self, dim=0):
        d = normalize_dim(dim, self.ndim, "unbind")
        out = Unbind.apply(self, d)
        return out if isinstance(out, tuple) else (out,)

    # -- indexing ----------------------------------------------------------------------------
    def __getitem__(self, index):
        index = normalise_index(index)
        steps = split_integer_selects(index)
        if steps is not None:
            return self[steps[0]][steps[1]]
        try:
            return indexing.GetItem.apply(self, index)
        except IndexError as e:
            raise IndexError(f"index {describe_index(index)} is invalid for a tensor of shape "
                             f"{tuple(self.shape)}: {e}") from None

    def __setitem__(self, index, value):
        index = normalise_index(index)
        if self._records_inplace(value):
            if not isinstance(value, Tensor):
                value = make_tensor(np.asarray(value, dtype=self.array.dtype))
            self._record_inplace("__setitem__", lambda before: inplace_ops.SetItem.apply(
                before, self._or_before(value, before), index))
            return
        self._inplace_check("__setitem__")
        value = _raw(value)
        if is_device_array(self.array):   # list/NumPy indices and values join the device
            index = tuple(placed_like(i, self.array) if isinstance(i, np.ndarray) else i
                          for i in index)
            value = placed_like(value, self.array) if isinstance(value, np.ndarray) else value
        self.array[index] = value
        increment_version(self)

    def masked_fill(self, mask, value):
        return indexing.MaskedFill.apply(self, _bool_arg(mask, "masked_fill"), _raw(value))

    def gather(self, dim, index):
        idx = _long_arg(index, "gather")
        d = normalize_dim(dim, self.ndim, "gather")
        if idx.ndim != self.ndim:
            raise RuntimeError(f"gather: index has {idx.ndim} dimensions but the input has "
                               f"{self.ndim} (shapes {tuple(idx.shape)} and {tuple(self.shape)})")
        n = self.array.shape[d]
        if idx.size and (idx.min() < -n or idx.max() >= n):
            bad = idx.max() if idx.max() >= n else idx.min()
            raise IndexError(f"gather: index {bad} is out of bounds for dimension {d} with size {n}")
        return indexing.Gather.apply(self, d, idx)

    def scatter_add(self, dim, index, src):
        d = normalize_dim(dim, self.ndim, "scatter_add")
        return indexing.ScatterAdd.apply(self, d, _long_arg(index, "scatter_add"), src)

    def index_select(self, dim, index):
        return indexing.IndexSelect.apply(self, normalize_dim(dim, self.ndim, "index_select"),
                                   _long_arg(index, "index_select"))

    # -- matrix products ---------------------------------------------------------------------
    def matmul(self, other):
        return linalg.MatMul.apply(self, other)

    def mm(self, other):
        if self.ndim != 2 or other.ndim != 2:
            raise RuntimeError(f"mm: expected 2-D tensors, got shapes {tuple(self.shape)} and "
                               f"{tuple(other.shape)}")
        return linalg.MatMul.apply(self, other)

    def bmm(self, other):
        if self.ndim != 3 or other.ndim != 3:
            raise RuntimeError(f"bmm: expected 3-D tensors, got shapes {tuple(self.shape)} and "
                               f"{tuple(other.shape)}")
        return linalg.MatMul.apply(self, other)

    def dot(self, other):
        if self.ndim != 1 or other.ndim != 1:
            raise RuntimeError(f"dot: expected 1-D tensors, got shapes {tuple(self.shape)} and "
                               f"{tuple(other.shape)}")
        return linalg.MatMul.apply(self, other)

    def mv(self, vec):
        return linalg.MatMul.apply(self, vec)

    def outer(self, other):
        return self.reshape(-1, 1) * other.reshape(1, -1)

    # -- in place ----------------------------------------------------------------------------
    # As in PyTorch: on a tensor that is part of a graph, or with an operand that requires grad,
    # an in-place op is recorded. The tensor keeps its identity and takes the op's node as its
    # grad_fn; the node's input is the tensor as it was (its old node and values). Its version
    # counter advances, so a node that used the old tensor refuses to backward through it.
    # Otherwise (no graph, or under no_grad) the op writes into the tensor's memory.
    def _inplace_check(self, op):
        if self.requires_grad and _grad_state.enabled:
            if self.grad_fn is None:
                raise RuntimeError(
                    f"a leaf Variable that requires grad is being used in an in-place operation. "
                    f"({op}: wrap the update in `with chainrule.no_grad():`)")
            raise RuntimeError(
                f"{op}: in-place operation on a tensor that is part of the autograd graph "
                f"(made by {self.grad_fn.node_name()}) has no recorded form; use the "
                f"out-of-place form or detach() first")
        if self.grad_fn is not None:
            raise RuntimeError(
                f"{op}: in-place operation under no_grad on a tensor that is part of the "
                f"autograd graph (made by {self.grad_fn.node_name()}); backward still needs its "
                f"value. Use the out-of-place form (e.g. x = x.add(y)) or detach() first")

    def _records_inplace(self, *operands):
        """Whether an in-place op with these operands goes into the graph."""
        if not _grad_state.enabled:
            return False
        return self.requires_grad or any(isinstance(o, Tensor) and o.requires_grad
                                         for o in operands)

    def _or_before(self, operand, before):
        """``operand``, or the tensor as it was when the operand is this tensor (``x.mul_(x)``)."""
        return before if operand is self else operand

    def _record_inplace(self, op, compute, node_name=None):
        """Run ``compute(before)``, the op out of place on this tensor as it was, and make this
        tensor its result: new values, the new node as grad_fn, the version advanced. The values
        go into a new array, so the old node's saved arrays stay as they were."""
        if self.requires_grad and self.grad_fn is None:
            raise RuntimeError(f"a leaf Variable that requires grad is being used in an in-place "
                               f"operation. ({op}: wrap the update in `with chainrule.no_grad():`)")
        if _views_an_input(self):
            raise RuntimeError(
                f"{op}: in-place operation on a view (made by {self.grad_fn.node_name()}) of a "
                f"tensor in the autograd graph; chainrule would not carry the change to the "
                f"viewed tensor as PyTorch does; write it out of place (x = x + ...) or apply "
                f"it to a clone()")
        before = make_tensor(self.array)
        before.requires_grad, before.grad_fn = self.requires_grad, self.grad_fn
        before._output_nr = self._output_nr
        out = compute(before)
        if out.grad_fn is not None and _consumes(out.grad_fn, self, before):
            raise RuntimeError(
                f"{op}: an operand of this in-place op was computed from the tensor it modifies "
                f"(as in x[i] += x[j] on a tensor in the graph), which chainrule cannot record; "
                f"write it out of place (x = x + ...) or apply it to a clone()")
        arr = out.array
        if arr.dtype != self.array.dtype:
            if not np.can_cast(arr.dtype, self.array.dtype, casting="same_kind"):
                raise RuntimeError(f"{op}: result type {_dtype.from_numpy_dtype(arr.dtype)} can't be "
                                   f"cast to the desired output type "
                                   f"{_dtype.from_numpy_dtype(self.array.dtype)}")
            arr = arr.astype(self.array.dtype)
        self.array = arr
        self.requires_grad, self.grad_fn, self._output_nr = (
            out.requires_grad, out.grad_fn, out._output_nr)
        if node_name is not None and out.grad_fn is not None:
            out.grad_fn.__dict__["_node_name"] = node_name
        increment_version(self)
        return self

    def _inplace(self, op, result):
        self._inplace_check(op)
        np.copyto(self.array, result, casting="same_kind")
        increment_version(self)
        return self

    def _inplace_or_record(self, op, compute, result, *operands, node_name=None):
        """The in-place op ``op``: recorded through ``compute`` when it goes into the graph,
        else ``result()`` (an array) written into this tensor."""
        if self._records_inplace(*operands):
            return self._record_inplace(op, compute, node_name)
        return self._inplace(op, result())

    def add_(self, other, alpha=1):
        o = _raw(other)
        return self._inplace_or_record(
            "add_", lambda b: b.add(self._or_before(other, b), alpha=alpha),
            lambda: self.array + (o if alpha == 1 else o * alpha), other)

    def sub_(self, other, alpha=1):
        o = _raw(other)
        return self._inplace_or_record(
            "sub_", lambda b: b.sub(self._or_before(other, b), alpha=alpha),
            lambda: self.array - (o if alpha == 1 else o * alpha), other)

    def mul_(self, other):
        return self._inplace_or_record("mul_", lambda b: b * self._or_before(other, b),
                                       lambda: self.array * _raw(other), other)

    def div_(self, other):
        return self._inplace_or_record("div_", lambda b: b / self._or_before(other, b),
                                       lambda: self.array / _raw(other), other)

    def pow_(self, other):
        return self._inplace_or_record("pow_", lambda b: b ** self._or_before(other, b),
                                       lambda: self.array ** _raw(other), other)

    def neg_(self):
        return self._inplace_or_record("neg_", lambda b: -b, lambda: -self.array)

    def abs_(self):
        return self._inplace_or_record("abs_", lambda b: b.abs(), lambda: np.abs(self.array))

    def sqrt_(self):
        return self._inplace_or_record("sqrt_", lambda b: b.sqrt(), lambda: np.sqrt(self.array))

    def exp_(self):
        return self._inplace_or_record("exp_", lambda b: b.exp(), lambda: np.exp(self.array))

    def relu_(self):
        return self._inplace_or_record("relu_", lambda b: b.relu(),
                                       lambda: np.maximum(self.array, 0))

    def sigmoid_(self):
        return self._inplace_or_record("sigmoid_", lambda b: b.sigmoid(),
                                       lambda: 1 / (1 + np.exp(-self.array)))

    def tanh_(self):
        return self._inplace_or_record("tanh_", lambda b: b.tanh(), lambda: np.tanh(self.array))

    def zero_(self):
        return self._inplace_or_record("zero_", lambda b: inplace_ops.Fill.apply(b, 0, True),
                                       lambda: 0)

    def fill_(self, value):
        return self._inplace_or_record(
            "fill_", lambda b: inplace_ops.Fill.apply(b, self._or_before(value, b), False),
            lambda: _raw(value), value)

    def copy_(self, src, non_blocking=False):
        s = _raw(src)
        try:
            np.broadcast_to(s, self.array.shape)
        except ValueError:
            raise RuntimeError(f"copy_: source of shape {np.shape(s)} does not broadcast to "
                               f"{tuple(self.shape)}") from None
        if self._records_inplace(src):
            return self._record_inplace("copy_", lambda b: inplace_ops.CopyFrom.apply(
                b, self._or_before(src, b)))
        self._inplace_check("copy_")
        np.copyto(self.array, s, casting="unsafe")
        increment_version(self)
        return self

    def clamp_(self, min=None, max=None):
        return self._inplace_or_record("clamp_", lambda b: b.clamp(min, max),
                                       lambda: np.clip(self.array, _raw(min), _raw(max)), min, max)

    clip_ = clamp_

    def masked_fill_(self, mask, value):
        m = _bool_arg(mask, "masked_fill_")
        return self._inplace_or_record(
            "masked_fill_", lambda b: b.masked_fill(mask, self._or_before(value, b)),
            lambda: np.where(m, _raw(value), self.array), value)

    def uniform_(self, a=0.0, b=1.0, generator=None):
        return self._inplace("uniform_", rng(generator).uniform(a, b, self.array.shape))

    def normal_(self, mean=0.0, std=1.0, generator=None):
        return self._inplace("normal_", rng(generator).normal(mean, std, self.array.shape))

    def bernoulli_(self, p=0.5, generator=None):
        return self._inplace("bernoulli_", rng(generator).random(self.array.shape) < p)

    def random_(self, low=0, high=None, generator=None):
        return self._inplace("random_", rng(generator).integers(low, high, self.array.shape))

    # ---- what beginner scripts also call: narrow, diag, unique

    @property
    def is_xpu(self):
        """False: chainrule's tensors live on the CPU (device lines test it beside ``is_cuda``)."""
        return False

    @property
    def is_mps(self):
        return False

    def narrow(self, dim, start, length):
        """The ``length`` elements from ``start`` along ``dim`` (a view in PyTorch, a slice here)."""
        d = normalize_dim(dim, self.ndim, "narrow")
        size = self.shape[d]
        start = int(_raw(start))
        if not -size <= start <= size:
            raise IndexError(f"narrow: start ({start}) out of range for dimension {d} of size {size} "
                             f"(expected to be in range of [{-size}, {size}])")
        start = start + size if start < 0 else start
        if length < 0 or start + length > size:
            raise RuntimeError(f"narrow: start ({start}) + length ({length}) exceeds dimension size "
                               f"({size}) of dimension {d}")
        return self[(slice(None),) * d + (slice(start, start + length),)]

    def diag(self, diagonal=0):
        """A 1-D tensor as a diagonal matrix, or a 2-D tensor's ``diagonal``-th diagonal."""
        if self.ndim not in (1, 2):
            raise RuntimeError(f"diag: expected a 1-D or 2-D tensor, got shape {tuple(self.shape)}")
        return Diag.apply(self, int(diagonal))

    def unique(self, sorted=True, return_inverse=False, return_counts=False, dim=None):
        """The distinct values (sorted), and optionally where each element went and how many there were."""
        found = np.unique(self.array, return_inverse=True, return_counts=True, axis=dim)
        values, inverse, counts = found
        out = [make_tensor(values)]
        if return_inverse:
            shape = self.array.shape if dim is None else (self.array.shape[dim],)
            out.append(make_tensor(inverse.reshape(shape).astype(np.int64)))
        if return_counts:
            out.append(make_tensor(counts.astype(np.int64)))
        return out[0] if len(out) == 1 else tuple(out)


    # -- hyperbolic functions and triangles -----------------------------------------------------
    def sinh(self):
        return elementwise.Sinh.apply(self)

    def cosh(self):
        return elementwise.Cosh.apply(self)

    def asinh(self):
        return elementwise.Asinh.apply(self)

    def acosh(self):
        return elementwise.Acosh.apply(self)

    def atanh(self):
        return elementwise.Atanh.apply(self)

    arcsinh, arccosh, arctanh = asinh, acosh, atanh

    def tril(self, diagonal=0):
        """The lower triangle of the last two dimensions (elements j - i <= diagonal), others 0."""
        return Triangle.apply(self._matrix_arg("tril"), int(diagonal), False)

    def triu(self, diagonal=0):
        """The upper triangle of the last two dimensions (elements j - i >= diagonal), others 0."""
        return Triangle.apply(self._matrix_arg("triu"), int(diagonal), True)

    def tril_(self, diagonal=0):
        return self._inplace_or_record("tril_", lambda b: b.tril(diagonal),
                                       lambda: self.tril(diagonal).array)

    def triu_(self, diagonal=0):
        return self._inplace_or_record("triu_", lambda b: b.triu(diagonal),
                                       lambda: self.triu(diagonal).array)

    # -- new tensors like this one (its dtype unless told) -------------------------------------
    def new_tensor(self, data, dtype=None, device=None, requires_grad=False, layout=None,
                   pin_memory=False):
        arr = np.array(to_host(_raw(data)) if isinstance(data, Tensor) else _raw(data),
                       dtype=_dtype.to_numpy_dtype(dtype) or self.array.dtype)
        return self._new_made("new_tensor", arr, device, requires_grad, pin_memory)

    def new_zeros(self, *size, dtype=None, device=None, requires_grad=False, layout=None,
                  pin_memory=False):
        arr = np.zeros(_shape_args(size, "new_zeros"), self._new_dtype(dtype))
        return self._new_made("new_zeros", arr, device, requires_grad, pin_memory)

    def new_ones(self, *size, dtype=None, device=None, requires_grad=False, layout=None,
                 pin_memory=False):
        arr = np.ones(_shape_args(size, "new_ones"), self._new_dtype(dtype))
        return self._new_made("new_ones", arr, device, requires_grad, pin_memory)

    def new_empty(self, *size, dtype=None, device=None, requires_grad=False, layout=None,
                  pin_memory=False):
        arr = np.empty(_shape_args(size, "new_empty"), self._new_dtype(dtype))
        return self._new_made("new_empty", arr, device, requires_grad, pin_memory)

    def new_full(self, size, fill_value, dtype=None, device=None, requires_grad=False,
                 layout=None, pin_memory=False):
        arr = np.full(_shape_args((size,), "new_full"), _raw(fill_value), self._new_dtype(dtype))
        return self._new_made("new_full", arr, device, requires_grad, pin_memory)

    def _new_dtype(self, dtype):
        return _dtype.to_numpy_dtype(dtype) or self.array.dtype

    def _new_made(self, op, arr, device, requires_grad, pin_memory):
        where = self.device if device is None else check_available(device, op)
        if pin_memory:
            raise RuntimeError(f"{op}: pin_memory=True requires a CUDA or other accelerator "
                               f"backend; no pinned memory allocator is available on this system")
        t = make_tensor(arr if where.type == "cpu" else to_device(arr, where.type, where.index))
        return t.requires_grad_(True) if requires_grad else t

    def _matrix_arg(self, op):
        if self.ndim < 2:
            raise RuntimeError(f"{op}: input tensor must have at least 2 dimensions, got shape "
                               f"{tuple(self.shape)}")
        return self


def _raise_not_on_host(t):
    raise TypeError(f"can't convert {t.device} device type tensor to numpy. Use Tensor.cpu() to "
                    f"copy the tensor to host memory first.")


def _parse_to(args, kwargs, op):
    """``(device, dtype, copy)`` from ``Tensor.to``'s or ``Module.to``'s arguments."""
    kwargs = dict(kwargs)
    dev = kwargs.pop("device", None)
    dtype = kwargs.pop("dtype", None)
    copy = kwargs.pop("copy", False)
    kwargs.pop("non_blocking", None)
    kwargs.pop("memory_format", None)
    if kwargs:
        raise TypeError(f"{op}() got unexpected keyword arguments {sorted(kwargs)}")
    args = list(args)
    flags = []
    if args and isinstance(args[0], Tensor):
        other = args.pop(0)
        dtype, dev = other.dtype, other.device
    elif args and (isinstance(args[0], (str, device)) or (
            isinstance(args[0], int) and not isinstance(args[0], bool))):
        dev = args.pop(0)
        if args and _is_dtype(args[0]):
            dtype = args.pop(0)
    elif args and _is_dtype(args[0]):
        dtype = args.pop(0)
    flags = args
    if len(flags) > 2 or not all(isinstance(f, bool) for f in flags):
        raise TypeError(f"{op}() received an invalid combination of arguments - got "
                        f"{tuple(type(a).__name__ for a in args)}; expected "
                        f"(device=None, dtype=None, non_blocking=False, copy=False), "
                        f"(dtype, non_blocking=False, copy=False) or "
                        f"(Tensor tensor, non_blocking=False, copy=False)")
    if len(flags) == 2:
        copy = flags[1]
    if isinstance(dev, int) and not isinstance(dev, bool):
        dev = device(dev)   # a bare index: an accelerator device, which raises here
    return dev, dtype, bool(copy)


def _is_dtype(x):
    return isinstance(x, (_dtype.dtype, np.dtype)) or x in (float, int, bool)


def _accept_numpy_names(method):
    """PyTorch accepts NumPy's ``axis=`` for ``dim=`` and ``keepdims=`` for ``keepdim=``."""
    def with_numpy_names(self, *args, **kwargs):
        if kwargs:
            kwargs = numpy_keywords(kwargs, method.__name__)
        return method(self, *args, **kwargs)

    with_numpy_names.__name__ = with_numpy_names.__qualname__ = method.__name__
    with_numpy_names.__doc__ = method.__doc__
    with_numpy_names.__wrapped__ = method
    return with_numpy_names


def numpy_keywords(kwargs, op):
    """``kwargs`` with ``axis`` renamed ``dim`` and ``keepdims`` renamed ``keepdim``."""
    if "axis" not in kwargs and "keepdims" not in kwargs:
        return kwargs
    kwargs = dict(kwargs)
    for numpy_name, torch_name in (("axis", "dim"), ("keepdims", "keepdim")):
        if numpy_name in kwargs:
            if torch_name in kwargs:
                raise TypeError(f"{op}(): got both {torch_name}= and its alias {numpy_name}=")
            kwargs[torch_name] = kwargs.pop(numpy_name)
    return kwargs


for _name in ("sum", "mean", "var", "std", "max", "min", "amax", "amin", "logsumexp", "prod",
              "norm", "cumsum", "softmax", "log_softmax", "argmax", "argmin", "all", "any",
              "count_nonzero", "topk", "sort", "argsort", "squeeze", "unsqueeze", "split",
              "chunk", "unbind", "index_select", "gather", "size"):
    setattr(Tensor, _name, _accept_numpy_names(getattr(Tensor, _name)))


class _HookHandle:
    def __init__(self, hooks, hook):
        self._hooks, self._hook = hooks, hook

    def remove(self):
        if self._hook in self._hooks:
            self._hooks.remove(self._hook)


def _raw(x):
    return x.array if isinstance(x, Tensor) else x


def _views_an_input(tensor):
    """Whether ``tensor``'s values are a view of one of its node's inputs (``x[0]``, ``x.t()``):
    a recorded in-place op gives the tensor a new array, which the viewed tensor would not see."""
    node = tensor.grad_fn
    return node is not None and any(np.may_share_memory(tensor.array, t.array)
                                    for t in getattr(node, "_tensors", ()))


def _consumes(node, tensor, before):
    """Whether the graph behind ``node`` (down to ``before``'s node, which is older than every
    use of ``tensor``) has a node that took ``tensor`` itself as an input: after an in-place
    op that node would route its gradient into the op's own node, a cycle."""
    stop = before.grad_fn
    stack, seen = [node], {id(node), id(stop)}
    while stack:
        for t in stack.pop().inputs or ():
            if t is None:
                continue
            if t is tensor:
                return True
            fn = t.grad_fn
            if fn is not None and id(fn) not in seen:
                seen.add(id(fn))
                stack.append(fn)
    return False


def _nondiff(fn, a, b):
    x, y = promote(_raw(a), _raw(b))
    return make_tensor(as_array(fn(x, y)))


def _trunc_divide(a, b):
    return np.trunc(np.true_divide(a, b)).astype(np.result_type(a, b))


def _bool_arg(x, op):
    a = _raw(x)
    a = as_array(a)
    if a.dtype.kind != "b":
        raise TypeError(f"{op}: expected a bool mask/condition, got dtype {a.dtype}")
    return a


def _long_arg(x, op):
    a = as_array(_raw(x))
    if a.dtype.kind not in "iu":
        raise TypeError(f"{op}: expected an integer (int64) index tensor, got dtype {a.dtype}")
    return a


def _correction(unbiased, correction):
    if correction is not None:
        return correction
    if unbiased is None:
        return 1
    return 1 if unbiased else 0


def _arg_reduce(fn, t, dim, keepdim, op):
    if dim is None:
        r = as_array(fn(t.array))
        if keepdim:
            r = r.reshape((1,) * t.ndim)
        return make_tensor(r.astype(np.int64))
    d = normalize_dim(dim, t.ndim, op)
    if t.ndim == 0:
        return make_tensor(np.zeros((), np.int64, like=t.array))
    return make_tensor(as_array(fn(t.array, axis=d, keepdims=keepdim)).astype(np.int64))


def _infer_shape(t, shape, op):
    size = t.array.size
    if shape.count(-1) > 1:
        raise RuntimeError(f"{op}: only one dimension can be inferred (-1), got {shape}")
    known = 1
    for s in shape:
        if s != -1:
            if s < 0:
                raise RuntimeError(f"{op}: invalid size {s} in shape {shape}")
            known *= s
    if -1 in shape:
        if known == 0 or size % known:
            raise RuntimeError(f"{op}: shape {list(shape)} is invalid for input of size {size} "
                               f"(shape {tuple(t.shape)})")
        shape = tuple(size // known if s == -1 else s for s in shape)
    elif known != size:
        raise RuntimeError(f"{op}: shape {list(shape)} is invalid for input of size {size} "
                           f"(shape {tuple(t.shape)})")
    return shape
