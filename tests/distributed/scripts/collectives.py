"""Every collective against the values it must give, on the ranks of an mpirun job (any size).
Rank r contributes values built from r, so the expected result is known in closed form."""
import numpy as np

import chainrule as cr
import chainrule.distributed as dist
from chainrule.distributed import ReduceOp


def check(name, got, expected):
    got = got.array if isinstance(got, cr.Tensor) else np.asarray(got)
    if not np.allclose(got, expected, rtol=0, atol=1e-12):
        raise AssertionError(f"rank {rank}: {name} gave {got.tolist()}, expected "
                             f"{np.asarray(expected).tolist()}")


dist.init_process_group("mpi", init_method="env://")
rank, world = dist.get_rank(), dist.get_world_size()
assert dist.is_initialized() and dist.get_backend() == "mpi"
ranks = np.arange(world, dtype=np.float64)

def mine():
    return cr.tensor([rank + 1.0, 2.0 * rank - 1.0], dtype=cr.float64)

values = np.stack([[r + 1.0, 2.0 * r - 1.0] for r in range(world)])
for op, expected in ((ReduceOp.SUM, values.sum(0)), (ReduceOp.AVG, values.mean(0)),
                     (ReduceOp.MAX, values.max(0)), (ReduceOp.MIN, values.min(0)),
                     (ReduceOp.PRODUCT, values.prod(0))):
    t = mine()
    version = t._version
    assert dist.all_reduce(t, op=op) is None
    check(f"all_reduce {op}", t, expected)
    assert t._version > version   # in place, recorded for autograd's checks

ints = cr.tensor([rank, 7], dtype=cr.int64)
dist.all_reduce(ints)
check("all_reduce int64", ints, [ranks.sum(), 7 * world])

t = mine()
work = dist.all_reduce(t, async_op=True)
assert work.wait() is True and work.is_completed()
check("all_reduce async", t, values.sum(0))

src = world - 1
t = mine()
dist.broadcast(t, src=src)
check("broadcast", t, values[src])

outs = [cr.zeros(2, dtype=cr.float64) for _ in range(world)]
dist.all_gather(outs, mine())
for r in range(world):
    check(f"all_gather [{r}]", outs[r], values[r])

out = cr.zeros(world * 2, dtype=cr.float64)
dist.all_gather_into_tensor(out, mine())
check("all_gather_into_tensor", out, values.reshape(-1))

full = cr.tensor(np.arange(world * 3, dtype=np.float64) * (rank + 1))
part = cr.zeros(3, dtype=cr.float64)
dist.reduce_scatter_tensor(part, full)
check("reduce_scatter_tensor", part,
      np.arange(world * 3, dtype=np.float64)[rank * 3:rank * 3 + 3] * sum(range(1, world + 1)))

gathered = [cr.zeros(2, dtype=cr.float64) for _ in range(world)] if rank == 0 else None
dist.gather(mine(), gathered, dst=0)
if rank == 0:
    for r in range(world):
        check(f"gather [{r}]", gathered[r], values[r])

pieces = [cr.full((2,), 10.0 * r, dtype=cr.float64) for r in range(world)] if rank == 0 else None
t = cr.zeros(2, dtype=cr.float64)
dist.scatter(t, pieces, src=0)
check("scatter", t, [10.0 * rank] * 2)

assert dist.barrier() is None
dist.barrier(async_op=True).wait()

# a subgroup of the odd ranks (with one rank: rank 0 alone): global ranks in, group ranks out
members = [r for r in range(world) if r % 2 == 1] or [0]
sub = dist.new_group(members)
if rank in members:
    assert dist.get_rank(sub) == members.index(rank)
    assert dist.get_world_size(sub) == len(members)
    t = mine()
    dist.all_reduce(t, group=sub)
    check("all_reduce subgroup", t, values[members].sum(0))
    t = mine()
    dist.broadcast(t, src=members[-1], group=sub)
    check("broadcast subgroup", t, values[members[-1]])
else:
    assert dist.get_rank(sub) == -1

# errors: a strided view, and shapes that differ between ranks (both shapes named)
try:
    dist.all_reduce(cr.zeros(4, 2)[:, 0])
    raise AssertionError("a non-contiguous tensor was accepted")
except ValueError as e:
    assert "contiguous" in str(e)
if world > 1:
    try:
        dist.all_reduce(cr.zeros(2 + min(rank, 1), 3))
        raise AssertionError("mismatched shapes were accepted")
    except RuntimeError as e:
        assert "(2, 3)" in str(e) and "(3, 3)" in str(e), e
dist.destroy_process_group()
assert not dist.is_initialized()
if rank == 0:
    print("OK")
