"""``Parameter``: a tensor that a Module registers as one of its learnable weights."""
import numpy as np

from .. import _dtype
from ..autograd.tensor_base import make_tensor
from ..tensor import Tensor


class Parameter(Tensor):
    """A Tensor that is a module parameter (``torch.nn.Parameter``).

    Assigning one as a module attribute registers it, so it shows up in ``parameters()`` and
    ``state_dict()``. It shares memory with ``data`` and requires grad unless told otherwise.
    Results of operations on a Parameter are plain Tensors.
    """

    __slots__ = ()

    def __new__(cls, data=None, requires_grad=True):
        if data is None:
            arr = np.empty(0, dtype=_dtype.default_float_np())
        elif isinstance(data, Tensor):
            arr = data.array
        else:
            arr = np.asarray(data)
            if arr.dtype == np.float64 and not isinstance(data, np.ndarray):
                arr = arr.astype(_dtype.default_float_np())
        p = make_tensor(arr, cls)
        if requires_grad:
            p.requires_grad_(True)
        return p

    def __repr__(self):
        from .._format import format_tensor
        return "Parameter containing:\n" + format_tensor(self)

    def __reduce_ex__(self, protocol):
        return (Parameter, (make_tensor(self.array), self.requires_grad))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        p = Parameter(self.array.copy(), self.requires_grad)
        if self.grad is not None:
            p.grad = make_tensor(self.grad.array.copy())
        memo[id(self)] = p
        return p


class Buffer(Tensor):
    """Marks a tensor to be registered as a buffer when assigned to a module (``torch.nn.Buffer``)."""

    __slots__ = ("persistent",)

    def __new__(cls, data=None, persistent=True):
        arr = np.empty(0, dtype=_dtype.default_float_np()) if data is None else \
            (data.array if isinstance(data, Tensor) else np.asarray(data))
        b = make_tensor(arr, cls)
        b.persistent = persistent
        return b
