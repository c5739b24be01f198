"""``cr.accelerator``: the device-agnostic question "is there a GPU-like device?" (``torch.accelerator``).

chainrule computes on the CPU, which PyTorch does not count as an accelerator: these answer
False, None and 0, as PyTorch's CPU build does.
"""
from .device import AVAILABLE_TYPES, device


def _accelerator_type():
    for t in ("cuda", "mps", "xpu"):
        if t in AVAILABLE_TYPES:
            return t
    return None


def is_available():
    return _accelerator_type() is not None


def current_accelerator(check_available=False):
    """The accelerator's device (``device(type='cuda')``), or None where there is none."""
    t = _accelerator_type()
    return None if t is None else device(t)


def device_count():
    return 0 if _accelerator_type() is None else 1


def _none_available(op):
    raise RuntimeError(f"cr.accelerator.{op}: Cannot access accelerator device when none is "
                       f"available (chainrule computes on the CPU)")


def current_device_index():
    _none_available("current_device_index")


def synchronize(device=None):
    _none_available("synchronize")
