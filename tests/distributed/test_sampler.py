"""DistributedSampler against torch's: the same index lists for every size, rank count, drop_last
and padding case (shuffle=False: the same order); with shuffle, the same split of chainrule's own
permutation (the random streams differ from PyTorch's by design)."""
import numpy as np
import pytest
import torch
from torch.utils.data.distributed import DistributedSampler as TorchSampler

import chainrule as cr
from chainrule.utils.data.distributed import DistributedSampler


@pytest.mark.parametrize("n", [1, 2, 5, 10, 11, 17])
@pytest.mark.parametrize("replicas", [1, 2, 3, 4, 7])
@pytest.mark.parametrize("drop_last", [False, True])
def test_index_lists_equal_torchs(n, replicas, drop_last):
    data = list(range(n))
    for rank in range(replicas):
        ours = DistributedSampler(data, num_replicas=replicas, rank=rank, shuffle=False,
                                  drop_last=drop_last)
        theirs = TorchSampler(data, num_replicas=replicas, rank=rank, shuffle=False,
                              drop_last=drop_last)
        assert list(ours) == list(theirs)
        assert len(ours) == len(theirs) == len(list(ours))
        assert ours.total_size == theirs.total_size


@pytest.mark.parametrize("drop_last", [False, True])
def test_shuffled_shares_split_one_permutation_per_epoch(drop_last):
    n, replicas = 11, 3
    samplers = [DistributedSampler(range(n), num_replicas=replicas, rank=r, seed=5,
                                   drop_last=drop_last) for r in range(replicas)]
    for epoch in (0, 1):
        for s in samplers:
            s.set_epoch(epoch)
        shares = [list(s) for s in samplers]
        g = cr.Generator().manual_seed(5 + epoch)
        perm = g.rng.permutation(n).tolist()
        # torch's padding and striding applied to that permutation
        total = samplers[0].total_size
        full = (perm + perm * replicas)[:total] if not drop_last else perm[:total]
        assert shares == [full[r:total:replicas] for r in range(replicas)]
    assert list(samplers[0]) != (samplers[0].set_epoch(0) or list(samplers[0]))


def test_works_with_dataloader_and_checks_its_arguments():
    ds = cr.utils.data.TensorDataset(cr.arange(10))
    loader = cr.utils.data.DataLoader(ds, batch_size=2, sampler=DistributedSampler(
        ds, num_replicas=2, rank=1, shuffle=False))
    assert [b[0].tolist() for b in loader] == [[1, 3], [5, 7], [9]]
    with pytest.raises(ValueError, match="Invalid rank 2"):
        DistributedSampler(ds, num_replicas=2, rank=2)
    with pytest.raises(RuntimeError, match="init_process_group"):
        DistributedSampler(ds)
    assert cr.utils.data.distributed.DistributedSampler is DistributedSampler
