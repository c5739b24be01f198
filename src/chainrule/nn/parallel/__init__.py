"""``cr.nn.parallel``: ``DistributedDataParallel`` (over ``chainrule.distributed``'s MPI)."""
from .distributed import DistributedDataParallel

__all__ = ["DistributedDataParallel"]
