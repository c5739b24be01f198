"""Utilities: ``chainrule.utils.data`` holds Dataset and DataLoader."""
from . import data

__all__ = ["data"]

# DistributedSampler lives in utils/distributed_sampler.py; PyTorch's path for it is
# torch.utils.data.distributed, so the same name is registered here.
import sys as _sys

from . import distributed_sampler as _distributed_sampler

data.distributed = _distributed_sampler
_sys.modules[__name__ + ".data.distributed"] = _distributed_sampler
