"""MNIST on several processes with DistributedDataParallel.

    mpirun -n 2 python examples/ddp_mnist.py            # or: chainrule run --nproc 2 examples/ddp_mnist.py
    python examples/ddp_mnist.py                        # one process works too

Reads the 10,000-image MNIST test set in ../shared/data/mnist (or --root): trains on its first
8,000 images and evaluates on the last 2,000. Where those files are absent it says so and trains
on synthetic 28x28 "images" instead (ten random prototypes plus noise), so the script still
shows the mechanics. Every rank reads its own share of each batch (DistributedSampler), the
gradients are averaged over the ranks (DDP), and only rank 0 prints. The global batch is
--batch-size; each rank takes batch-size / world-size of it, so the learning rate is the one a
single process would use with that batch.
"""
import argparse
import os
import sys

import numpy as np

import chainrule as cr
import chainrule.distributed as dist
from chainrule import nn
from chainrule.nn.parallel import DistributedDataParallel as DDP
from chainrule.utils.data import DataLoader, TensorDataset
from chainrule.utils.data.distributed import DistributedSampler

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_ROOT = os.path.normpath(os.path.join(HERE, "..", "..", "shared", "data", "mnist"))


def load(root, quick, say):
    n_train, n_test = (1000, 500) if quick else (8000, 2000)
    if os.path.exists(os.path.join(root, "t10k-images-idx3-ubyte.gz")) or \
            os.path.exists(os.path.join(root, "t10k-images-idx3-ubyte")):
        images, labels = cr.datasets.load_mnist(root, train=False, flatten=True)
        return images[:n_train], labels[:n_train], images[-n_test:], labels[-n_test:], "MNIST"
    say(f"note: no MNIST files in {root} (pass --root); training on synthetic 28x28 data")
    g = np.random.default_rng(0)
    prototypes = g.random((10, 784))
    y = g.integers(0, 10, n_train + n_test)
    X = np.clip(prototypes[y] + 1.5 * g.standard_normal((len(y), 784)), 0, 1).astype(np.float32)
    X, y = cr.tensor(X), cr.tensor(y)
    return X[:n_train], y[:n_train], X[n_train:], y[n_train:], "synthetic data"


def main(quick=False, root=DEFAULT_ROOT, batch_size=128, epochs=None, lr=0.1):
    dist.init_process_group("mpi")
    rank, world = dist.get_rank(), dist.get_world_size()

    def say(text):
        if rank == 0:
            print(text, flush=True)

    if batch_size % world:
        raise SystemExit(f"--batch-size {batch_size} must divide by the number of ranks {world}")
    X_train, y_train, X_test, y_test, what = load(root, quick, say)
    epochs = epochs or (2 if quick else 5)

    cr.manual_seed(0)   # DDP copies rank 0's weights to the others anyway
    model = DDP(nn.Sequential(nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10)))
    optimizer = cr.optim.SGD(model.parameters(), lr=lr, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    train_set = TensorDataset(X_train, y_train)
    sampler = DistributedSampler(train_set, shuffle=True, seed=0)
    loader = DataLoader(train_set, batch_size=batch_size // world, sampler=sampler)
    say(f"{what}: {len(train_set)} training images on {world} rank(s), global batch "
        f"{batch_size} ({batch_size // world} per rank)")
    for epoch in range(epochs):
        sampler.set_epoch(epoch)   # a new shuffle each epoch, the same on every rank
        total = cr.zeros(2, dtype=cr.float64)   # summed loss, samples: added up over the ranks
        for X, y in loader:
            optimizer.zero_grad()
            loss = loss_fn(model(X), y)
            loss.backward()        # returns with the gradients averaged over the ranks
            optimizer.step()
            total += cr.tensor([loss.item() * len(y), len(y)], dtype=cr.float64)
        dist.all_reduce(total)
        result = cr.train.evaluate(model.module, (X_test, y_test), loss_fn, metrics=["accuracy"])
        say(f"epoch {epoch + 1}: train loss {total[0].item() / total[1].item():.4f}, test accuracy "
            f"{result['accuracy']:.4f}")
    dist.destroy_process_group()
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small subset (also CHAINRULE_CI=1)")
    parser.add_argument("--root", default=DEFAULT_ROOT, help="folder with the MNIST IDX files")
    parser.add_argument("--batch-size", type=int, default=128, help="the global batch")
    parser.add_argument("--epochs", type=int)
    args = parser.parse_args()
    main(quick=args.quick or os.environ.get("CHAINRULE_CI") == "1", root=args.root,
         batch_size=args.batch_size, epochs=args.epochs)
    sys.exit(0)
