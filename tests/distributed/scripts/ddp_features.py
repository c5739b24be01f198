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


# a gradient of 1 MiB or more is a bucket of its own, all-reduced in its own .grad (no copy into
# a shared buffer); a user's post-accumulate hook on it still sees the local gradient, and a rank
# that did not use it adds zeros
def wide(seed):
    cr.manual_seed(seed)
    return cr.nn.Sequential(cr.nn.Linear(3, 512), cr.nn.Tanh(),
                            cr.nn.Linear(512, 256, bias=False),   # 256x512 float64: 1 MiB
                            cr.nn.Tanh(), cr.nn.Linear(256, 2)).double()


big = wide(0)
wide_net = DDP(big)
alone = [b for b in wide_net._buckets if b.params == [big[2].weight]]
assert len(alone) == 1 and alone[0].buffer is None, [len(b.params) for b in wide_net._buckets]
with wide_net.no_sync():
    wide_net(x).pow(2).sum().backward()
local = [p.grad.array.copy() for p in big.parameters()]
big.zero_grad()
wide_net(x).pow(2).sum().backward()
grad_array = big[2].weight.grad.array
for p, g in zip(big.parameters(), local):
    np.testing.assert_allclose(p.grad.array, every_rank(g).mean(0), rtol=1e-12, atol=1e-14)
assert alone[0].buffer is None   # reduced where backward left it: no buffer was ever made
wide_net(x).pow(2).sum().backward()   # accumulating: the average of twice the local sums
np.testing.assert_allclose(big[2].weight.grad.array, 2 * every_rank(local[2]).mean(0),
                           rtol=1e-12, atol=1e-14)
assert big[2].weight.grad.array is grad_array   # the same .grad, updated in place, as before

hooked = wide(0)
hooked_net = DDP(hooked)
hooked.zero_grad()
seen_by_hook = []


def look_later(p):
    from mpi4py import MPI
    MPI.Request.Waitall(hooked_net._requests)   # the all-reduces under way finish first
    seen_by_hook.append(p.grad.array.copy())


hooked[2].weight.register_post_accumulate_grad_hook(look_later)
hooked_net(x).pow(2).sum().backward()
np.testing.assert_array_equal(seen_by_hook[0], local[2])   # local, not a buffer in flight
np.testing.assert_allclose(hooked[2].weight.grad.array, every_rank(local[2]).mean(0),
                           rtol=1e-12, atol=1e-14)


class SkipOnRankOne(cr.nn.Module):
    def __init__(self):
        super().__init__()
        self.net, self.skip = wide(0), True

    def forward(self, x):
        h = self.net[1](self.net[0](x))
        if rank == 1 and self.skip:   # the 1 MiB layer unused here: its .grad stays None on this rank
            return self.net[4](h[:, :256])
        return self.net[4](self.net[3](self.net[2](h)))


skipping = SkipOnRankOne()
skip_net = DDP(skipping, find_unused_parameters=True)
with skip_net.no_sync():
    skip_net(x).pow(2).sum().backward()
mine = skipping.net[2].weight.grad
assert (mine is None) == (rank == 1)
expected = every_rank(np.zeros((256, 512)) if mine is None else mine.array).mean(0)
for _ in range(2):   # twice: nothing left over from the step before
    skipping.zero_grad()
    skip_net(x).pow(2).sum().backward()
    np.testing.assert_allclose(skipping.net[2].weight.grad.array, expected, rtol=1e-12,
                               atol=1e-14)
skipping.skip = False   # used on every rank again: reduced in place again, not through a copy
alone = [b for b in skip_net._buckets if b.params == [skipping.net[2].weight]][0]
assert (alone.buffer is None) == (rank == 0)
if alone.buffer is not None:
    alone.buffer[...] = np.nan
skipping.zero_grad()
with skip_net.no_sync():
    skip_net(x).pow(2).sum().backward()
expected = every_rank(skipping.net[2].weight.grad.array).mean(0)
skipping.zero_grad()
skip_net(x).pow(2).sum().backward()
assert alone.buffer is None or np.isnan(alone.buffer).all()
np.testing.assert_allclose(skipping.net[2].weight.grad.array, expected, rtol=1e-12, atol=1e-14)


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
