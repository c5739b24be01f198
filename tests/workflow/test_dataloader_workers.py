"""``DataLoader(num_workers=N)`` loads in N worker processes: the same batches in the same order
as ``num_workers=0`` under a seed, workers seeded as PyTorch seeds them, errors re-raised in the
main process naming the worker, and no process left behind."""
import multiprocessing
import os

import numpy as np
import pytest

import chainrule as cr
from chainrule.utils.data import DataLoader, Dataset, TensorDataset, get_worker_info


class Squares(Dataset):
    """Sample i is (i, i^2, the pid that loaded it, a number drawn from the worker's generator)."""

    def __init__(self, n=23, fail_at=None):
        self.n, self.fail_at = n, fail_at

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        if i == self.fail_at:
            raise ValueError(f"sample {i} is broken")
        return i, float(i * i), os.getpid(), cr.rand(1).item()


def _batches(loader):
    return [[b.tolist() for b in batch[:2]] for batch in loader]


def test_workers_give_the_same_batches_in_the_same_order():
    data = Squares()
    cr.manual_seed(3)
    single = _batches(DataLoader(data, batch_size=4, shuffle=True))
    cr.manual_seed(3)
    multi = _batches(DataLoader(data, batch_size=4, shuffle=True, num_workers=2))
    assert single == multi and len(multi) == 6
    x = cr.arange(20.0).reshape(10, 2)
    fast = DataLoader(TensorDataset(x, cr.arange(10)), batch_size=3, num_workers=2)
    assert [b[0].tolist() for b in fast] == [b[0].tolist() for b in DataLoader(
        TensorDataset(x, cr.arange(10)), batch_size=3)]


def test_batches_come_from_worker_processes_seeded_base_seed_plus_id():
    seen = []

    def init(worker_id):   # runs in the worker: record what get_worker_info says
        info = get_worker_info()
        assert info.id == worker_id and info.num_workers == 2
        assert cr.initial_seed() == info.seed

    loader = DataLoader(Squares(8), batch_size=2, num_workers=2, worker_init_fn=init)
    for _, _, pids, _ in loader:
        seen.append(set(pids.tolist()))
    pids = set().union(*seen)
    assert len(pids) == 2 and os.getpid() not in pids
    assert get_worker_info() is None
    it = iter(DataLoader(Squares(8), batch_size=2, num_workers=2))
    first, second = next(it), next(it)   # batches 0 and 1 come from workers 0 and 1
    cr.manual_seed(it.base_seed)
    assert first[3][0].item() == cr.rand(1).item()
    cr.manual_seed(it.base_seed + 1)
    assert second[3][0].item() == cr.rand(1).item()
    it.shutdown()


def test_an_error_in_a_worker_is_raised_naming_it_and_the_workers_stop():
    it = iter(DataLoader(Squares(8, fail_at=5), batch_size=2, num_workers=2))
    next(it), next(it)
    with pytest.raises(ValueError, match=r"Caught ValueError in DataLoader worker process 0\.\n"
                                         r"Original Traceback(.|\n)*sample 5 is broken"):
        next(it)
    assert all(not w.is_alive() for w in it.workers)
    assert multiprocessing.active_children() == []


def test_persistent_workers_serve_every_epoch():
    loader = DataLoader(Squares(6), batch_size=3, num_workers=2, persistent_workers=True,
                        prefetch_factor=1)
    epochs = [_batches(loader) for _ in range(2)]
    assert epochs[0] == epochs[1] == _batches(DataLoader(Squares(6), batch_size=3))
    workers = loader._workers.workers
    assert all(w.is_alive() for w in workers)
    loader._workers.shutdown()
    assert all(not w.is_alive() for w in workers)


def test_bad_options_are_refused_as_torch_refuses_them():
    with pytest.raises(ValueError, match="num_workers option should be non-negative"):
        DataLoader(Squares(), num_workers=-1)
    with pytest.raises(ValueError, match="prefetch_factor option could only be specified"):
        DataLoader(Squares(), prefetch_factor=2)


def test_leaving_the_loop_early_stops_the_workers():
    for _ in DataLoader(Squares(12), batch_size=2, num_workers=2):
        break
    assert multiprocessing.active_children() == []
