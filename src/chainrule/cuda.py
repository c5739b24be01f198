"""``cr.cuda``: ``torch.cuda``, answered by CuPy where it is installed and sees a GPU.

Scripts ask ``cr.cuda.is_available()`` before choosing a device and seed CUDA's generators
unconditionally. With CuPy and a GPU (``pip install "chainrule[cuda]"``) these answer from the
GPU; without, as PyTorch's CPU build does (False, 0, no-op seeding), so that such scripts run,
and the calls that need a GPU to mean anything (``current_device``, ``synchronize``,
``get_device_name`` ...) raise PyTorch's AssertionError.
"""
from . import cupy_backend
from .device import AVAILABLE_TYPES
from .random import seed_device
from . import _dtype
from .amp import grad_scaler as _grad_scaler
from .amp.autocast_mode import autocast as _autocast


def is_available():
    """True when tensors can be made on 'cuda': CuPy is installed and sees a GPU."""
    return cupy_backend.enable()


def device_count():
    return _gpu().cuda.runtime.getDeviceCount() if is_available() else 0


def is_initialized():
    return "cuda" in AVAILABLE_TYPES


def _gpu():
    return cupy_backend.module()


def _index(device):
    if device is None:
        return 0
    if isinstance(device, int):
        return device
    return getattr(device, "index", None) or int(str(device).partition(":")[2] or 0)


def _not_compiled(op):
    if is_available():
        return
    raise AssertionError(f"Torch not compiled with CUDA enabled: cr.cuda.{op}() needs a CUDA "
                         f"device, and chainrule here has none (cr.cuda.is_available() is False)")


def current_device():
    _not_compiled("current_device")
    return _gpu().cuda.runtime.getDevice()


def synchronize(device=None):
    """Wait for the GPU to finish its queued work (timings need it)."""
    _not_compiled("synchronize")
    with _gpu().cuda.Device(_index(device)) as d:
        d.synchronize()


def get_device_properties(device=None):
    _not_compiled("get_device_properties")
    return _gpu().cuda.runtime.getDeviceProperties(_index(device))


def get_device_name(device=None):
    _not_compiled("get_device_name")
    name = get_device_properties(device)["name"]
    return name.decode() if isinstance(name, bytes) else name


def get_device_capability(device=None):
    _not_compiled("get_device_capability")
    props = get_device_properties(device)
    return props["major"], props["minor"]


def set_device(device):
    if is_available():
        _gpu().cuda.Device(_index(device)).use()
        return
    raise RuntimeError(f"cr.cuda.set_device({device!r}): chainrule has no CUDA support here "
                       f"(cr.cuda.is_available() is False)")


def is_bf16_supported(including_emulation=True):
    return False     # CuPy has no bfloat16


def manual_seed(seed):
    """Seed CUDA's generators (without CUDA there is nothing to seed; PyTorch ignores it too)."""
    seed_device("cuda", seed)


def manual_seed_all(seed):
    """Seed every CUDA device's generator."""
    seed_device("cuda", seed)


def seed():
    """Seed CUDA's generator randomly: nothing to seed without CUDA."""


def seed_all():
    """Seed every CUDA device's generator randomly: nothing to seed without CUDA."""


def memory_allocated(device=None):
    """Bytes held by tensors on the GPU (CuPy's memory pool in use); 0 without CUDA."""
    return _gpu().get_default_memory_pool().used_bytes() if _gpu() is not None else 0


def max_memory_allocated(device=None):
    return 0


def memory_reserved(device=None):
    """Bytes CuPy's memory pool holds (in use and cached); 0 without CUDA."""
    return _gpu().get_default_memory_pool().total_bytes() if _gpu() is not None else 0


def max_memory_reserved(device=None):
    return 0


def empty_cache():
    """Release the GPU memory CuPy's pool caches (nothing to do without CUDA)."""
    if _gpu() is not None:
        _gpu().get_default_memory_pool().free_all_blocks()


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
