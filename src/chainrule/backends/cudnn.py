"""``cr.backends.cudnn``: cuDNN's switches (``torch.backends.cudnn``).

``benchmark``, ``deterministic``, ``allow_tf32`` and ``enabled`` keep what a script sets them
to, with PyTorch's defaults; without cuDNN they change nothing, and ``is_available()`` is False.
"""
import sys
import types

from .flags import Flags


class _CudnnModule(types.ModuleType):
    # A module whose unknown attributes cannot be set by a typo, as torch.backends.cudnn's.
    _flags = Flags("cudnn", enabled=True, benchmark=False, deterministic=False, allow_tf32=True,
                   benchmark_limit=10)

    def __getattr__(self, key):
        return getattr(type(self)._flags, key)

    def __setattr__(self, key, value):
        if key in type(self)._flags._known:
            setattr(type(self)._flags, key, value)
        else:
            super().__setattr__(key, value)


def is_available():
    """Whether cuDNN can be used (no: chainrule has no CUDA backend here)."""
    return False


def version():
    """cuDNN's version, or None without cuDNN (PyTorch's CPU build answers None)."""
    return None


sys.modules[__name__].__class__ = _CudnnModule
