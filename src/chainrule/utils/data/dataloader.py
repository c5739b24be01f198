"""``DataLoader``: a dataset walked in mini-batches, in this process or in worker processes."""
import numpy as np

from .collate import default_collate
from .sampler import BatchSampler, RandomSampler, SequentialSampler
from .worker import MultiProcessIterator


class DataLoader:
    """Iterate over ``dataset`` in mini-batches.

    >>> loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)
    >>> for xb, yb in loader: ...

    ``shuffle=True`` draws a new order every epoch from ``generator`` (or the default generator,
    so ``cr.manual_seed`` makes it repeatable). ``drop_last`` skips the final short batch.
    ``num_workers=N`` loads in N worker processes (``worker.py``): the same batches in the same
    order as ``num_workers=0``, with ``worker_init_fn(worker_id)``, ``prefetch_factor`` batches
    in flight per worker, ``persistent_workers`` kept across epochs, ``timeout`` seconds to wait
    for a batch, and ``multiprocessing_context`` ("fork", "spawn" or a context).
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, multiprocessing_context=None, generator=None, *,
                 prefetch_factor=None, persistent_workers=False, pin_memory_device="",
                 in_order=True):
        if not isinstance(num_workers, int) or num_workers < 0:
            raise ValueError(f"num_workers option should be non-negative; use num_workers=0 to "
                             f"disable multiprocessing (got {num_workers!r})")
        if timeout < 0:
            raise ValueError(f"timeout option should be non-negative (got {timeout!r})")
        if num_workers == 0 and prefetch_factor is not None:
            raise ValueError("prefetch_factor option could only be specified in multiprocessing."
                             "let num_workers > 0 to enable multiprocessing, otherwise set "
                             "prefetch_factor to None.")
        if persistent_workers and num_workers == 0:
            raise ValueError("persistent_workers option needs num_workers > 0")
        self.dataset, self.generator = dataset, generator
        self.num_workers, self.pin_memory = num_workers, pin_memory
        self.timeout, self.worker_init_fn = timeout, worker_init_fn
        self.multiprocessing_context = multiprocessing_context
        self.prefetch_factor = 2 if prefetch_factor is None and num_workers > 0 else prefetch_factor
        self.persistent_workers, self.in_order = persistent_workers, in_order
        self._workers = None   # the persistent workers' iterator
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler option is mutually exclusive with shuffle")
        if batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler option is mutually exclusive with "
                                 "batch_size, shuffle, sampler, and drop_last")
            batch_size, drop_last = None, False
        elif batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None option disables auto-batching and is "
                             "mutually exclusive with drop_last")
        if sampler is None:
            sampler = (RandomSampler(dataset, generator=generator) if shuffle
                       else SequentialSampler(dataset))
        if batch_size is not None and batch_sampler is None:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.sampler, self.batch_sampler = sampler, batch_sampler
        self.batch_size, self.drop_last = batch_size, drop_last
        self._auto_collate = batch_sampler is not None
        self.collate_fn = collate_fn or (default_collate if self._auto_collate else _identity)
        self._default_collate = collate_fn is None

    def __iter__(self):
        if self.num_workers > 0:
            return self._multiprocess_iter()
        return self._single_process_iter()

    def _single_process_iter(self):
        fetch = _Fetcher(self.dataset, self.collate_fn, self._auto_collate, self._default_collate)
        for indices in self._index_batches():
            yield fetch(indices)

    def _multiprocess_iter(self):
        fetch = _Fetcher(self.dataset, self.collate_fn, self._auto_collate, self._default_collate)
        if not self.persistent_workers:
            return MultiProcessIterator(self, fetch)
        if self._workers is None or self._workers.shut_down:
            self._workers = MultiProcessIterator(self, fetch)
        else:
            self._workers.reset()
        return self._workers

    def _index_batches(self):
        """What each batch fetches: an int64 array of indices, or one index without batching."""
        if not self._auto_collate:
            return iter(self.sampler)
        if isinstance(self.batch_sampler, BatchSampler):
            return self.batch_sampler._index_batches()
        return (np.asarray(b, dtype=np.int64) for b in self.batch_sampler)

    def __len__(self):
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)


def _identity(x):
    return x


class _Fetcher:
    """One batch from its indices: ``_fetch_batch`` when the dataset has it and the collation
    is the default, else ``collate_fn`` over the samples. A plain object, so that a worker
    started by ``spawn`` can receive it."""

    def __init__(self, dataset, collate_fn, auto_collate, default_collate):
        self.dataset, self.collate_fn, self.auto_collate = dataset, collate_fn, auto_collate
        self.fetch_batch = getattr(dataset, "_fetch_batch", None) if default_collate else None

    def __call__(self, indices):
        if not self.auto_collate:
            return self.collate_fn(self.dataset[indices])
        if self.fetch_batch is not None:
            return self.fetch_batch(indices)
        return self.collate_fn([self.dataset[int(i)] for i in indices])
