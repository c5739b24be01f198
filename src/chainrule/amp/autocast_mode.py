"""``autocast``: run the matrix-bound ops in a lower precision (``torch.autocast``).

Inside ``with cr.autocast("cpu"):`` the ops PyTorch lists as "CPU ops that can autocast to
bfloat16" (matmul, mm, bmm, linear, conv, conv_transpose, scaled_dot_product_attention,
einsum's products) cast their float32 inputs to the autocast dtype (bfloat16 by default, or
float16) and return that dtype; the losses PyTorch lists as "CPU ops that autocast to float32"
(mse_loss, l1_loss, cross_entropy, nll_loss, binary_cross_entropy[_with_logits], kl_div,
smooth_l1_loss, huber_loss) cast low-precision inputs up to float32. Every other op runs in
the dtype of its inputs. float64 inputs are never cast, as in PyTorch. The casts are ops in the
graph, so gradients flow back to the float32 parameters.

How: entering the block re-points each listed op's ``apply`` at a wrapper that casts first,
and leaving restores it (as ``cr.backends.reference`` switches paths), so ops cost nothing
extra outside autocast. 'cuda' autocast is accepted and, without CUDA, disabled with PyTorch's
warning.
"""
import functools
import importlib
import threading
import warnings

from .. import _dtype
from ..device import AVAILABLE_TYPES
from ..autograd.function import Function
from ..autograd.tensor_base import TensorBase
from ..backends.reference import state as reference_state
from ..ops import base
from ..ops.elementwise import Cast

_LOWER = ("linalg.MatMul", "linalg.Einsum", "linear.Linear", "conv.Conv", "conv.ConvTranspose",
          "attention.ScaledDotProductAttention")
_FLOAT32 = ("loss.MSELoss", "loss.L1Loss", "loss.SmoothL1Loss", "loss.HuberLoss",
            "loss.CrossEntropyLoss", "loss.NLLLoss", "loss.BCELoss", "loss.BCEWithLogitsLoss",
            "loss.KLDivLoss")

_lock = threading.Lock()
_state = {"cpu": [False, _dtype.bfloat16], "cuda": [False, _dtype.float16]}
_depth = 0   # how many enabled autocast blocks are open (the wrappers stay while > 0)


def is_autocast_enabled(device_type=None):
    """Whether autocast is on for ``device_type`` ('cuda' when not given, as PyTorch)."""
    return _state[_device_type(device_type or "cuda")][0]


def get_autocast_dtype(device_type):
    return _state[_device_type(device_type)][1]


def set_autocast_dtype(device_type, dtype):
    _state[_device_type(device_type)][1] = dtype


def _device_type(device_type):
    if device_type not in _state:
        raise RuntimeError(f"autocast: device_type must be 'cpu' or 'cuda', got {device_type!r}")
    return device_type


def _ops(names):
    for name in names:
        module, cls = name.split(".")
        yield getattr(importlib.import_module(f"..ops.{module}", __package__), cls)


def _cast_wrapper(op, policy):
    def apply(*args):
        if not _state["cpu"][0]:
            return _path(op)(*args)
        low = _state["cpu"][1].np
        target = low if policy == "lower" else _dtype.float32.np
        cast = []
        for a in args:
            if isinstance(a, TensorBase) and _castable(a.array.dtype, policy, low):
                a = Cast.apply(a, target)
            cast.append(a)
        out = _path(op)(*cast)
        if policy == "lower" and isinstance(out, TensorBase) and out.array.dtype != target \
                and _dtype.is_float_np(out.array.dtype) and out.array.dtype.itemsize == 4:
            out = Cast.apply(out, target)   # NumPy multiplies bfloat16 into float32: round back
        return out

    return apply


def _castable(nd, policy, low):
    if policy == "lower":
        return nd == _dtype.float32.np
    return nd != _dtype.float64.np and nd != _dtype.float32.np and _dtype.is_float_np(nd)


def _path(op):
    """The apply the op takes without autocast: its reference twin's under the reference
    switch, else its own."""
    if reference_state.enabled and op.reference is not None:
        return op.reference.apply
    return functools.partial(Function.__dict__["apply"].__func__, op)


def _install():
    for policy, names in (("lower", _LOWER), ("float32", _FLOAT32)):
        for op in _ops(names):
            op.apply = staticmethod(_cast_wrapper(op, policy))


def _uninstall():
    for op in _ops(_LOWER + _FLOAT32):
        if "apply" in op.__dict__:
            del op.apply
        if op.reference is not None:
            base._choose_path(op, reference_state.enabled)


def _reinstall_after_reference_switch(enabled):
    # The reference switch re-points the ops' apply; inside an autocast block, wrap them again.
    if _depth > 0:
        _install()


# ops.base registered its listener when it was imported above, so this one runs after it.
reference_state.on_change(_reinstall_after_reference_switch)


class autocast:
    """``with cr.autocast(device_type="cpu", dtype=cr.bfloat16, enabled=True):`` (also a
    decorator). On the CPU the dtype must be bfloat16 or float16; anything else disables
    autocast with PyTorch's warning."""

    def __init__(self, device_type, dtype=None, enabled=True, cache_enabled=None):
        if not isinstance(device_type, str):
            raise ValueError(f"autocast: expected `device_type` of type `str`, got "
                             f"{type(device_type).__name__}")
        device_type = _device_type(device_type)
        self.device = device_type
        self.fast_dtype = dtype if dtype is not None else _state[device_type][1]
        self._enabled = bool(enabled)
        if self._enabled and device_type == "cuda":
            if "cuda" not in AVAILABLE_TYPES:
                warnings.warn("CUDA is not available or torch_xla is imported. Disabling "
                              "autocast.", UserWarning, stacklevel=2)
                self._enabled = False
        if self._enabled and self.fast_dtype not in (_dtype.bfloat16, _dtype.float16):
            warnings.warn("In CPU autocast, but the target dtype is not supported. Disabling "
                          "autocast.\nCPU Autocast only supports dtypes of chainrule.bfloat16, "
                          "chainrule.float16 currently.", UserWarning, stacklevel=2)
            self._enabled = False
        if self._enabled:
            self.fast_dtype.np   # bfloat16 needs ml_dtypes: fail here, not inside an op

    def __enter__(self):
        global _depth
        entry = _state[self.device]
        self._previous = tuple(entry)
        entry[0] = self._enabled
        entry[1] = self.fast_dtype if self._enabled else entry[1]
        with _lock:
            _depth += 1
            if _depth == 1:
                _install()
        return self

    def __exit__(self, *exc):
        global _depth
        _state[self.device][:] = self._previous
        with _lock:
            _depth -= 1
            if _depth == 0:
                _uninstall()
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapped(*args, **kwargs):
            with autocast(self.device, self.fast_dtype, self._enabled):
                return fn(*args, **kwargs)
        return wrapped
