"""CUDA tensors through CuPy: ``device="cuda"`` holds ``cupy.ndarray`` arrays.

``enable()`` registers CuPy as the array library of device type ``cuda`` the first time a CUDA
device is asked for (``cr.cuda.is_available()``, ``x.to("cuda")`` ...), if CuPy imports and sees
a GPU; otherwise nothing changes and CUDA requests raise PyTorch's CPU-build error. Install it
with ``pip install "chainrule[cuda]"`` (``cupy-cuda12x``, for CUDA 12 drivers).
``CHAINRULE_CUDA=0`` keeps chainrule on the CPU even where a GPU exists.

``enable_device`` is the general hook: the test suite uses it to put a CPU stand-in for CuPy
(tests/cuda/fake_array_module.py) behind ``cuda`` and run every op through it.
"""
import importlib.util
import os

from . import backend
from .device import AVAILABLE_TYPES, ENABLERS, register_device_type

_state = {"tried": False, "module": None}


def enable():
    """Make ``cuda`` tensors available through CuPy; True when they are (now or already)."""
    if "cuda" in AVAILABLE_TYPES:
        return True
    if _state["tried"] or os.environ.get("CHAINRULE_CUDA") == "0":
        return False
    _state["tried"] = True
    if importlib.util.find_spec("cupy") is None:
        return False
    try:
        import cupy
        if cupy.cuda.runtime.getDeviceCount() < 1:
            return False
    except Exception:     # CuPy without a driver or a GPU raises CUDARuntimeError and others
        return False
    enable_device("cuda", cupy.ndarray, cupy)
    return True


def enable_device(device_type, array_type, module):
    """Let tensors live on ``device_type``, holding ``array_type`` arrays made by ``module``."""
    backend.register_array_module(array_type, module, device_type)
    register_device_type(device_type)
    _state["module"] = module


def disable_device(device_type, array_type):
    """Undo ``enable_device`` (tests); tensors already on the device keep their arrays."""
    backend.unregister_array_module(array_type)
    AVAILABLE_TYPES.discard(device_type)
    _state["module"] = None
    _state["tried"] = False


def module():
    """The array module of ``cuda`` tensors, or None while CUDA is not enabled."""
    return _state["module"] if "cuda" in AVAILABLE_TYPES else None


ENABLERS["cuda"] = enable
