"""``cr.cpu``: the CPU as a device module (``torch.cpu``), and ``cr.cpu.amp.autocast``."""
import types

from . import _dtype
from .amp import autocast_mode as _autocast_mode


def is_available():
    return True


def device_count():
    return 1


def current_device():
    return "cpu"


def is_initialized():
    return True


def synchronize(device=None):
    """Wait for the CPU's queued work: NumPy has none pending."""


def _cpu_autocast(enabled=True, dtype=None, cache_enabled=True):
    return _autocast_mode.autocast("cpu", dtype=dtype or _dtype.bfloat16, enabled=enabled,
                                   cache_enabled=cache_enabled)


amp = types.SimpleNamespace(autocast=_cpu_autocast)
