"""Switches for how chainrule computes (``torch.backends`` in PyTorch).

``reference()``: run every op on its reference path, the version whose forward and backward
follow the lecture's formula literally, instead of its fast path. Also set by the environment
variable ``CHAINRULE_REFERENCE=1`` at import time.

``cuda``, ``cudnn`` and ``mps``: the GPU backends' switches and availability, answering as
PyTorch's CPU build does (``cr.backends.mps.is_available()`` is False ...).

``mkl``: ``cr.backends.mkl.is_available()``, True where the ``mkl`` extra runs the products.

``mkldnn`` (``onednn``): ``cr.backends.mkldnn.is_available()``, True where the ``onednn`` extra
runs float32 LSTM layers; ``cr.backends.mkldnn.enabled = False`` turns it off, as in PyTorch.
"""
from .reference import is_reference_enabled, reference
from . import cuda, cudnn, mkl, mps, onednn
from . import onednn as mkldnn

__all__ = ["reference", "is_reference_enabled", "cuda", "cudnn", "mkl", "mkldnn", "mps",
           "onednn"]
