"""DistributedDataParallel's behaviours besides the averaged step (equivalence.py): the broadcast
at construction, overlap, no_sync, find_unused_parameters, module and state_dict; under mpirun."""
import numpy as np

import chainrule as cr
import chainrule.distributed as dist
from chainrule.nn.parallel import DistributedDataParallel as DDP

dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()


def model(seed):
    cr.manual_seed(seed)
    return cr.nn.Sequential(cr.nn.Linear(3, 8), cr.nn.ReLU(), cr.nn.Linear(8, 8), cr.nn.ReLU(),
                            cr.nn.Linear(8, 2), cr.nn.BatchNorm1d(2)).double()


def every_rank(arr):
    out = cr.zeros((world,) + arr.shape, dtype=cr.float64)
    dist.all_gather_into_tensor(out, cr.tensor(np.ascontiguousarray(arr, np.float64)))
    return out.array


# construction copies rank 0's parameters and buffers to every rank
inner = model(seed=rank)
inner[5].running_mean.array[...] = rank
net = DDP(inner, bucket_cap_mb=0.0001)
assert net.module is inner
assert list(net.state_dict()) == ["module." + k for k in inner.state_dict()]
for p in list(inner.parameters()) + [inner[5].running_mean]:
    assert np.ptp(every_rank(p.array), axis=0).max() == 0

# buckets start while backward runs: when the first layer's gradient (the last produced) is
# accumulated, earlier buckets are already on their way
seen = []
first_weight = inner[0].weight
first_weight.register_post_accumulate_grad_hook(lambda p: seen.append(len(net._requests)))
x = cr.tensor(np.random.default_rng(rank).standard_normal((4, 3)))
net(x).pow(2).sum().backward()
assert len(net._buckets) >= 3 and seen and seen[0] >= 1, (len(net._buckets), seen)
for p in inner.parameters():
    assert np.ptp(every_rank(p.grad.array), axis=0).max() < 1e-15   # every rank: the same mean

# no_sync: local accumulation, then one averaged backward equals the average of the sums
inner.zero_grad()
local = []
with net.no_sync():
    net(x).pow(2).sum().backward()
    local = [p.grad.array.copy() for p in inner.parameters()]
differs = [np.ptp(every_rank(g), axis=0).max() for g in local]
assert max(differs) > 0   # unsynchronised: the ranks' gradients differ
net(x).pow(2).sum().backward()
for p, g in zip(inner.parameters(), local):
    np.testing.assert_allclose(p.grad.array, every_rank(2 * g).mean(0), rtol=1e-12, atol=1e-14)


# a branch used by no rank: its gradient stays None with find_unused_parameters, and without it
# the next forward says which parameters were not reduced
class TwoHeads(cr.nn.Module):
    def __init__(self):
        super().__init__()
        self.body, self.unused = cr.nn.Linear(3, 2).double(), cr.nn.Linear(3, 2).double()

    def forward(self, x):
        return self.body(x)


cr.manual_seed(1)
heads = TwoHeads()
found = DDP(heads, find_unused_parameters=True)
for _ in range(2):
    found(x).sum().backward()
assert heads.unused.weight.grad is None and heads.body.weight.grad is not None

strict = DDP(TwoHeads())
strict(x).sum().backward()
try:
    strict(x)
    raise AssertionError("an unreduced iteration went unnoticed")
except RuntimeError as e:
    assert "find_unused_parameters=True" in str(e) and "unused.weight" in str(e), e

# ranks that build different models are told so at construction
try:
    DDP(cr.nn.Linear(3, 2 + min(rank, 1)))
    raise AssertionError("different models were accepted")
except RuntimeError as e:
    assert "different parameters" in str(e)
dist.destroy_process_group()
if rank == 0:
    print("OK")
