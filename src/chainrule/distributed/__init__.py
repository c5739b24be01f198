"""``chainrule.distributed``: training on many processes, with ``torch.distributed``'s API, over
MPI (Open MPI through mpi4py; ``pip install 'chainrule[distributed]'``).

    mpirun -n 2 python train.py        # or: chainrule run --nproc 2 train.py

    import chainrule.distributed as dist
    dist.init_process_group("mpi")
    t = cr.ones(3) * dist.get_rank()
    dist.all_reduce(t)                 # in place: the sum over the ranks

Importing this module does not import mpi4py; ``init_process_group`` does (docs/distributed.md).
"""
from .collectives import (ReduceOp, Work, all_gather, all_gather_into_tensor, all_reduce, barrier,
                          broadcast, gather, reduce_scatter_tensor, scatter)
from .process_group import (NON_GROUP_MEMBER, ProcessGroup, destroy_process_group, get_backend,
                            get_process_group_ranks, get_rank, get_world_size, init_process_group,
                            is_available, is_initialized, is_mpi_available, new_group)

GroupMember = type("GroupMember", (), {"NON_GROUP_MEMBER": NON_GROUP_MEMBER, "WORLD": None})

__all__ = ["ReduceOp", "Work", "ProcessGroup", "GroupMember", "init_process_group",
           "destroy_process_group", "is_available", "is_mpi_available", "is_initialized",
           "get_rank", "get_world_size", "get_backend", "get_process_group_ranks", "new_group",
           "all_reduce", "broadcast", "all_gather", "all_gather_into_tensor",
           "reduce_scatter_tensor", "gather", "scatter", "barrier"]
