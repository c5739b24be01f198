"""fit() on every rank of an mpirun job against fit() in one process on the global batch, then
a checkpoint written by rank 0 and resumed on every rank (argv[1]: a scratch folder)."""
import sys
from pathlib import Path

import numpy as np

import chainrule as cr
import chainrule.distributed as dist
from chainrule.train import fit

dist.init_process_group("mpi")
rank, world = dist.get_rank(), dist.get_world_size()
folder = Path(sys.argv[1])
g = np.random.default_rng(0)
X = cr.tensor(g.standard_normal((48, 5)))
y = cr.tensor(g.integers(0, 3, 48))


def model():
    cr.manual_seed(3)
    return cr.nn.Sequential(cr.nn.Linear(5, 12), cr.nn.Tanh(), cr.nn.Linear(12, 3)).double()


def train(net, epochs, batch, **kw):
    opt = cr.optim.SGD(net.parameters(), lr=0.2, momentum=0.5)
    h = fit(net, cr.nn.CrossEntropyLoss(), opt, (X, y), epochs=epochs, batch_size=batch,
            shuffle=False, metrics=["accuracy"], val_data=(X, y), progress=False, **kw)
    return h, [p.array.copy() for p in net.parameters()]


# data-parallel: per-rank batch 4 on each rank; the one-process run: batch 4 * world
parallel_net = model()
h_parallel, parallel = train(parallel_net, 2, 4)
one = model()
world_group = dist.process_group.state.world
dist.process_group.state.world = None   # this rank alone, as a one-process run
h_one, single = train(one, 2, 4 * world)
dist.process_group.state.world = world_group
for a, b in zip(parallel, single):
    np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-14)
for key in ("loss", "accuracy", "val_loss", "val_accuracy"):
    np.testing.assert_allclose(h_parallel.history[key], h_one.history[key], rtol=1e-12)

# checkpoint after epoch 1 on rank 0, resumed on every rank: the same as two epochs straight
ckpt = folder / "ckpt.safetensors"
train(model(), 1, 4, checkpoint=str(ckpt))
_, resumed = train(model(), 2, 4, resume_from=str(ckpt))
for a, b in zip(resumed, parallel):
    np.testing.assert_array_equal(a, b)
dist.destroy_process_group()
if rank == 0:
    print("OK")
