"""Samplers: the order in which a loader visits a dataset's indices, and their grouping into
batches (``BatchSampler``)."""
import numpy as np

from ...random import rng


# -- samplers ------------------------------------------------------------------------------------
class Sampler:
    """Yields dataset indices. ``_index_array()`` gives them at once as an int64 array."""

    def __iter__(self):
        return iter(self._index_array().tolist())

    def _index_array(self):
        return np.fromiter(iter(self), dtype=np.int64)


class SequentialSampler(Sampler):
    def __init__(self, data_source):
        self.data_source = data_source

    def _index_array(self):
        return np.arange(len(self.data_source), dtype=np.int64)

    def __len__(self):
        return len(self.data_source)


class RandomSampler(Sampler):
    """A fresh random order each pass (without replacement), or ``num_samples`` draws with it."""

    def __init__(self, data_source, replacement=False, num_samples=None, generator=None):
        self.data_source, self.replacement = data_source, replacement
        self._num_samples, self.generator = num_samples, generator
        if num_samples is not None and (not isinstance(num_samples, int) or num_samples <= 0):
            raise ValueError(f"RandomSampler: num_samples should be a positive integer, got "
                             f"{num_samples!r}")

    @property
    def num_samples(self):
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def _index_array(self):
        n, g = len(self.data_source), rng(self.generator)
        if self.replacement:
            return g.integers(0, n, self.num_samples, dtype=np.int64)
        reps = -(-self.num_samples // n) if n else 0
        return np.concatenate([g.permutation(n) for _ in range(reps)] or [np.empty(0, np.int64)]
                              )[:self.num_samples].astype(np.int64)

    def __len__(self):
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order."""

    def __init__(self, indices, generator=None):
        self.indices, self.generator = np.asarray(list(indices), dtype=np.int64), generator

    def _index_array(self):
        return self.indices[rng(self.generator).permutation(len(self.indices))]

    def __len__(self):
        return len(self.indices)


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size``."""

    def __init__(self, sampler, batch_size, drop_last):
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(f"BatchSampler: batch_size should be a positive integer, got "
                             f"{batch_size!r}")
        self.sampler, self.batch_size, self.drop_last = sampler, batch_size, bool(drop_last)

    def __iter__(self):
        for batch in self._index_batches():
            yield batch.tolist()

    def _index_batches(self):
        idx = (self.sampler._index_array() if isinstance(self.sampler, Sampler)
               else np.fromiter(iter(self.sampler), dtype=np.int64))
        stop = len(idx) - len(idx) % self.batch_size if self.drop_last else len(idx)
        for start in range(0, stop, self.batch_size):
            yield idx[start:start + self.batch_size]

    def __len__(self):
        n = len(self.sampler)
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
