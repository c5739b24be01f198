"""``DistributedSampler``: each rank of a data-parallel job reads its own share of a dataset
(``torch.utils.data.distributed.DistributedSampler``; reached as
``chainrule.utils.data.distributed``).

Every rank draws the same permutation (seeded with ``seed + epoch``), pads it by repeating its
start until its length divides by ``num_replicas`` (or, with ``drop_last``, cuts the tail), and
takes every ``num_replicas``-th index from position ``rank``: the shares are disjoint and together
cover the dataset once per epoch.
"""
import math

import numpy as np

from ...random import Generator
from .sampler import Sampler


class DistributedSampler(Sampler):
    """Indices ``rank, rank + num_replicas, ...`` of a padded (or cut) permutation of the dataset.

    ``num_replicas`` and ``rank`` default to the process group's world size and rank. Call
    ``set_epoch(epoch)`` before each epoch when ``shuffle``, or every epoch repeats one order.
    """

    def __init__(self, dataset, num_replicas=None, rank=None, shuffle=True, seed=0,
                 drop_last=False):
        if num_replicas is None or rank is None:
            from ... import distributed as dist
            if not dist.is_initialized():
                raise RuntimeError("DistributedSampler: num_replicas and rank default to the "
                                   "process group's, but it is not initialized: call "
                                   "chainrule.distributed.init_process_group() first, or pass "
                                   "both")
            num_replicas = dist.get_world_size() if num_replicas is None else num_replicas
            rank = dist.get_rank() if rank is None else rank
        if rank >= num_replicas or rank < 0:
            raise ValueError(f"Invalid rank {rank}, rank should be in the interval "
                             f"[0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, int(num_replicas), int(rank)
        self.epoch, self.drop_last, self.shuffle, self.seed = 0, bool(drop_last), shuffle, seed
        n = len(dataset)
        if self.drop_last and n % self.num_replicas != 0:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas

    def _index_array(self):
        n = len(self.dataset)
        if self.shuffle:
            g = Generator().manual_seed(self.seed + self.epoch)
            indices = g.rng.permutation(n).astype(np.int64)
        else:
            indices = np.arange(n, dtype=np.int64)
        if not self.drop_last:
            padding = self.total_size - n
            if padding > 0:
                indices = np.concatenate([indices, np.resize(indices, padding)])
        else:
            indices = indices[:self.total_size]
        return indices[self.rank:self.total_size:self.num_replicas]

    def __len__(self):
        return self.num_samples

    def set_epoch(self, epoch):
        """Use ``epoch`` in the seed of the next permutation (the same on every rank)."""
        self.epoch = epoch
