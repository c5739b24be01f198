"""``cr.cuda``: what ``torch.cuda`` answers on a machine without CUDA, which is chainrule's today.

Scripts ask ``cr.cuda.is_available()`` before choosing a device and seed CUDA's generators
unconditionally; these answer as PyTorch's CPU build does (False, 0, no-op seeding) so that
such scripts run. The calls that need a GPU to mean anything (``current_device``,
``synchronize``, ``get_device_name`` ...) raise PyTorch's AssertionError instead.
"""
from .device import AVAILABLE_TYPES
from . import _dtype
from .amp import grad_scaler as _grad_scaler
from .amp.autocast_mode import autocast as _autocast


def is_available():
    """True when tensors can be made on 'cuda' (False: chainrule computes with NumPy)."""
    return "cuda" in AVAILABLE_TYPES


def device_count():
    return 0


def is_initialized():
    return False


def _not_compiled(op):
    raise AssertionError(f"Torch not compiled with CUDA enabled: cr.cuda.{op}() needs a CUDA "
                         f"device, and chainrule here has none (cr.cuda.is_available() is False)")


def current_device():
    _not_compiled("current_device")


def synchronize(device=None):
    _not_compiled("synchronize")


def get_device_name(device=None):
    _not_compiled("get_device_name")


def get_device_capability(device=None):
    _not_compiled("get_device_capability")


def get_device_properties(device=None):
    _not_compiled("get_device_properties")


def set_device(device):
    raise RuntimeError(f"cr.cuda.set_device({device!r}): chainrule has no CUDA support here "
                       f"(cr.cuda.is_available() is False)")


def is_bf16_supported(including_emulation=True):
    return False


def manual_seed(seed):
    """Seed CUDA's generators: nothing to seed without CUDA (PyTorch ignores it too)."""


def manual_seed_all(seed):
    """Seed every CUDA device's generator: nothing to seed without CUDA."""


def seed():
    """Seed CUDA's generator randomly: nothing to seed without CUDA."""


def seed_all():
    """Seed every CUDA device's generator randomly: nothing to seed without CUDA."""


def memory_allocated(device=None):
    return 0


def max_memory_allocated(device=None):
    return 0


def memory_reserved(device=None):
    return 0


def max_memory_reserved(device=None):
    return 0


def empty_cache():
    """Release cached GPU memory: there is none."""


class _Amp:
    """``cr.cuda.amp``: PyTorch's deprecated spellings of ``cr.amp.GradScaler`` / ``autocast``."""

    @staticmethod
    def GradScaler(init_scale=2.0 ** 16, growth_factor=2.0, backoff_factor=0.5,
                   growth_interval=2000, enabled=True):
        return _grad_scaler.GradScaler("cuda", init_scale, growth_factor, backoff_factor,
                                       growth_interval, enabled)

    @staticmethod
    def autocast(enabled=True, dtype=None, cache_enabled=True):
        return _autocast("cuda", dtype=dtype or _dtype.float16, enabled=enabled,
                        cache_enabled=cache_enabled)


amp = _Amp()
