"""Utilities: ``chainrule.utils.data`` holds Dataset and DataLoader (and, as in PyTorch,
``chainrule.utils.data.distributed.DistributedSampler``)."""
from . import data

__all__ = ["data"]
