"""K steps of DistributedDataParallel on W ranks, each on its B/W share of every batch, against K
steps in one process on the whole batch; run under mpirun. Rank 0 prints the largest relative
difference of the parameters for each dtype and 'OK' when they agree."""
import itertools
import sys

import numpy as np

import chainrule as cr
import chainrule.distributed as dist
from chainrule.nn.parallel import DistributedDataParallel as DDP

STEPS, BATCH = 5, 16


def build(dtype, width):
    cr.manual_seed(0)
    model = cr.nn.Sequential(cr.nn.Linear(6, 16), cr.nn.Tanh(), cr.nn.Linear(16, width),
                             cr.nn.ReLU(), cr.nn.Linear(width, 3))
    return model.to(dtype)


def data(dtype):
    g = np.random.default_rng(1)
    X = g.standard_normal((STEPS, BATCH, 6))
    y = g.integers(0, 3, (STEPS, BATCH))
    return X.astype(dtype), y


def train(model, X, y, rows, wrap):
    opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    net = DDP(model, bucket_cap_mb=0.0005) if wrap else model   # several small buckets
    loss_fn = cr.nn.CrossEntropyLoss()
    for k in range(STEPS):
        opt.zero_grad()
        loss_fn(net(cr.tensor(X[k, rows])), cr.tensor(y[k, rows])).backward()
        opt.step()
    return [p.array.copy() for p in model.parameters()]


def main():
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()
    assert BATCH % world == 0
    share = slice(rank * BATCH // world, (rank + 1) * BATCH // world)
    ok = True
    # width 16384: a 16x16384 weight of 1 MiB or more, all-reduced alone in its own .grad
    for (dtype, tol), width in itertools.product(((np.float64, 1e-12), (np.float32, 1e-6)),
                                                 (16, 16384)):
        X, y = data(dtype)
        kind = cr.float64 if dtype is np.float64 else cr.float32
        ddp = train(build(kind, width), X, y, share, True)
        single = train(build(kind, width), X, y, slice(None), False)
        worst = max(float(np.max(np.abs(a - b)) / max(float(np.max(np.abs(b))), 1e-30))
                    for a, b in zip(ddp, single))
        gathered = [cr.zeros(1, dtype=cr.float64) for _ in range(world)]
        dist.all_gather(gathered, cr.tensor([worst], dtype=cr.float64))
        if rank == 0:
            print(f"{np.dtype(dtype).name}, width {width}: worst relative difference "
                  f"{max(float(g.item()) for g in gathered):.3g}")
        ok = ok and max(float(g.item()) for g in gathered) <= tol
    if "--separate-hosts" in sys.argv:   # the ranks really ran in different network namespaces
        import os
        ns = cr.tensor([os.stat("/proc/self/ns/net").st_ino], dtype=cr.int64)
        every = [cr.zeros(1, dtype=cr.int64) for _ in range(world)]
        dist.all_gather(every, ns)
        ok = ok and len({int(t.item()) for t in every}) == world
        if rank == 0:
            print(f"network namespaces of the ranks: {[int(t.item()) for t in every]}")
    dist.destroy_process_group()
    if rank == 0:
        print("OK" if ok else "MISMATCH")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
