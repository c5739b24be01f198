"""What ``fit`` does differently when it runs on several ranks (``init_process_group`` called and
more than one rank): the model wrapped in DistributedDataParallel, each rank on its share of the
training set (a DistributedSampler, reseeded every epoch), the epoch's loss and metrics computed
over every rank's batches, and what writes (the progress bar, CSV logs, checkpoints) on rank 0
only. Validation runs on the whole validation set on every rank, so every rank gets the same
logs and takes the same decisions (early stopping, ReduceLROnPlateau)."""
import numpy as np

from . import process_group
from .collectives import wait_requests

WRITING_CALLBACKS = ("ModelCheckpoint", "CSVLogger")


def data_parallel_world():
    """The default group when ``fit`` should run data-parallel, else None."""
    world = process_group.state.world
    return world if world is not None and world.size() > 1 else None


def wrap_model(model):
    """``model`` in a DistributedDataParallel (as given when it already is one)."""
    from ..nn.parallel import DistributedDataParallel
    if isinstance(model, DistributedDataParallel):
        return model
    return DistributedDataParallel(model)


def unwrap(model):
    """The module a DistributedDataParallel wraps: what checkpoints hold (no ``module.`` keys),
    so a checkpoint loads into the plain model, on one rank or many."""
    from ..nn.parallel import DistributedDataParallel
    return model.module if isinstance(model, DistributedDataParallel) else model


def shard_loader(loader, world):
    """``loader`` reading only this rank's share (a DistributedSampler), unless it already has
    one (then as given)."""
    from ..utils.data import DataLoader, RandomSampler
    from ..utils.data.distributed import DistributedSampler
    if isinstance(loader.sampler, DistributedSampler) or loader.batch_sampler is None:
        return loader
    sampler = DistributedSampler(loader.dataset, num_replicas=world.size(), rank=world.rank(),
                                 shuffle=isinstance(loader.sampler, RandomSampler))
    return DataLoader(loader.dataset, batch_size=loader.batch_sampler.batch_size, sampler=sampler,
                      drop_last=loader.batch_sampler.drop_last, collate_fn=loader.collate_fn)


def set_epoch(loader, epoch):
    if hasattr(loader.sampler, "set_epoch"):
        loader.sampler.set_epoch(epoch)


def rank_callbacks(callbacks, world):
    """The callbacks this rank runs: all on rank 0; elsewhere all but those that write files."""
    if world is None or world.rank() == 0:
        return list(callbacks)
    return [cb for cb in callbacks if type(cb).__name__ not in WRITING_CALLBACKS
            and not getattr(cb, "rank_zero_only", False)]


def sum_over_ranks(world, *values):
    """The sums over the ranks of a few numbers."""
    MPI = process_group.mpi()
    arr = np.array(values, np.float64)
    wait_requests([world.comm.Iallreduce(MPI.IN_PLACE, arr, op=MPI.SUM)], world, "fit (loss)")
    return arr.tolist()


def gather_rows(world, array):
    """Every rank's ``array`` concatenated along the first axis in rank order (the ranks may
    have different numbers of rows)."""
    array = np.ascontiguousarray(array)
    rows = np.array([array.shape[0]], np.int64)
    counts = np.empty(world.size(), np.int64)
    wait_requests([world.comm.Iallgather(rows, counts)], world, "fit (metrics)")
    per_row = int(np.prod(array.shape[1:], dtype=np.int64))
    out = np.empty((int(counts.sum()),) + array.shape[1:], array.dtype)
    sizes = (counts * per_row).tolist()
    wait_requests([world.comm.Iallgatherv(array, [out, sizes])], world, "fit (metrics)")
    return out


def barrier(world):
    wait_requests([world.comm.Ibarrier()], world, "fit (checkpoint)")
