"""Datasets and mini-batch loaders (``torch.utils.data``).

A ``Dataset`` maps an index to one sample; a ``DataLoader`` walks a dataset in mini-batches,
shuffled or not, and stacks the samples of a batch with ``collate_fn``.

chainrule loads in the main process. Datasets that hold whole arrays (``TensorDataset``,
``Subset`` of one, ``MNIST``, ``TextCorpus``) also offer ``_fetch_batch(indices)``: the loader
then builds a batch with ONE fancy-index per tensor instead of a Python loop over samples.
"""
import bisect
import collections.abc
import math
import numbers
import warnings

import numpy as np

from ..random import default_generator, rng
from ..tensor import Tensor
from ..autograd.tensor_base import make_tensor


# -- datasets ------------------------------------------------------------------------------------
class Dataset:
    """A map-style dataset: subclasses define ``__getitem__(index)`` and ``__len__()``."""

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Samples are ``(t[i] for t in tensors)``: the first dimension of every tensor indexes samples."""

    def __init__(self, *tensors):
        if not tensors:
            raise ValueError("TensorDataset: give at least one tensor")
        tensors = tuple(t if isinstance(t, Tensor) else make_tensor(np.asarray(t)) for t in tensors)
        sizes = [t.shape[0] if t.ndim else None for t in tensors]
        if None in sizes or len(set(sizes)) != 1:
            raise ValueError(f"TensorDataset: size mismatch between tensors: every tensor needs the "
                             f"same first dimension, got shapes {[tuple(t.shape) for t in tensors]}")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]

    def _fetch_batch(self, indices):
        return [_take(t, indices) for t in self.tensors]


def _take(t, indices):
    # Data tensors normally don't require grad; then a plain NumPy take is all we need.
    if t.requires_grad:
        return t[make_tensor(indices)]
    return make_tensor(t.array[indices])


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order."""

    def __init__(self, dataset, indices):
        self.dataset = dataset
        self.indices = [int(i) for i in indices]

    def __getitem__(self, idx):
        if isinstance(idx, list):
            return self.dataset[[self.indices[i] for i in idx]]
        return self.dataset[self.indices[idx]]

    def __len__(self):
        return len(self.indices)

    @property
    def _fetch_batch(self):
        inner = getattr(self.dataset, "_fetch_batch", None)
        if inner is None:
            raise AttributeError("_fetch_batch")
        index_map = np.asarray(self.indices, dtype=np.int64)
        return lambda indices: inner(index_map[indices])


class ConcatDataset(Dataset):
    """Several datasets one after the other."""

    def __init__(self, datasets):
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: datasets should not be an empty iterable")
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]).tolist())

    def __len__(self):
        return self.cumulative_sizes[-1]

    def __getitem__(self, idx):
        if idx < 0:
            if -idx > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            idx = len(self) + idx
        which = bisect.bisect_right(self.cumulative_sizes, idx)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][idx - start]


def random_split(dataset, lengths, generator=None):
    """Split ``dataset`` into non-overlapping random subsets of the given ``lengths``.

    ``lengths`` are counts summing to ``len(dataset)``, or fractions summing to 1; the counts
    ``floor(frac * n)`` then receive the leftover samples one each, round-robin (as PyTorch does).
    """
    n = len(dataset)
    lengths = list(lengths)
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1 and not all(
            isinstance(x, numbers.Integral) for x in lengths):
        for i, frac in enumerate(lengths):
            if frac < 0 or frac > 1:
                raise ValueError(f"random_split: fraction at index {i} is not between 0 and 1: {frac}")
        counts = [int(math.floor(n * frac)) for frac in lengths]
        for i in range(n - sum(counts)):
            counts[i % len(counts)] += 1
        for i, c in enumerate(counts):
            if c == 0:
                warnings.warn(f"random_split: length of split at index {i} is 0; this might "
                              f"result in an empty dataset", stacklevel=2)
        lengths = counts
    if any(int(x) != x or x < 0 for x in lengths):
        raise ValueError(f"random_split: lengths must be non-negative integers or fractions "
                         f"summing to 1, got {lengths}")
    if sum(lengths) != n:
        raise ValueError(f"random_split: sum of input lengths ({sum(lengths)}) does not equal the "
                         f"length of the input dataset ({n})")
    order = rng(generator or default_generator).permutation(n)
    out, start = [], 0
    for length in lengths:
        out.append(Subset(dataset, order[start:start + int(length)].tolist()))
        start += int(length)
    return out


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


# -- collation -----------------------------------------------------------------------------------
def default_collate(batch):
    """Stack a list of samples into a batch, as PyTorch does.

    Tensors and NumPy arrays are stacked along a new first dimension; Python ints become an int64
    tensor, floats a float64 tensor, bools a bool tensor; strings stay a list; dicts, tuples and
    lists are collated field by field (tuples and lists come back as lists).
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        return make_tensor(np.stack([b.array for b in batch]))
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind not in "biuf":
            raise TypeError(f"default_collate: batches must contain tensors, NumPy arrays, numbers, "
                            f"dicts or lists; found an array of dtype {elem.dtype}")
        return make_tensor(np.stack(batch))
    if isinstance(elem, (bool, np.bool_)):
        return make_tensor(np.asarray(batch, dtype=np.bool_))
    if isinstance(elem, numbers.Integral):
        return make_tensor(np.asarray(batch, dtype=np.int64))
    if isinstance(elem, numbers.Real):
        return make_tensor(np.asarray(batch, dtype=np.float64))
    if isinstance(elem, (str, bytes)):
        return list(batch)
    if isinstance(elem, collections.abc.Mapping):
        return {key: default_collate([d[key] for d in batch]) for key in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        if any(len(s) != len(elem) for s in batch):
            raise RuntimeError("default_collate: each element in list of batch should be of equal "
                               "size")
        return [default_collate(list(s)) for s in zip(*batch)]
    raise TypeError(f"default_collate: batches must contain tensors, NumPy arrays, numbers, dicts "
                    f"or lists; found {type(elem).__name__}")


# -- the loader ----------------------------------------------------------------------------------
class DataLoader:
    """Iterate over ``dataset`` in mini-batches.

    >>> loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True)
    >>> for xb, yb in loader: ...

    ``shuffle=True`` draws a new order every epoch from ``generator`` (or the default generator,
    so ``cr.manual_seed`` makes it repeatable). ``drop_last`` skips the final short batch.
    ``num_workers`` is accepted for PyTorch compatibility; loading always runs in this process.
    """

    def __init__(self, dataset, batch_size=1, shuffle=None, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False,
                 generator=None, timeout=0, worker_init_fn=None, prefetch_factor=None,
                 persistent_workers=False):
        self.dataset, self.generator = dataset, generator
        self.num_workers, self.pin_memory = num_workers, pin_memory
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
        if not self._auto_collate:
            for i in self.sampler:
                yield self.collate_fn(self.dataset[i])
            return
        fetch_batch = getattr(self.dataset, "_fetch_batch", None) if self._default_collate else None
        batches = (self.batch_sampler._index_batches() if isinstance(self.batch_sampler, BatchSampler)
                   else (np.asarray(b, dtype=np.int64) for b in self.batch_sampler))
        for indices in batches:
            if fetch_batch is not None:
                yield fetch_batch(indices)
            else:
                yield self.collate_fn([self.dataset[int(i)] for i in indices])

    def __len__(self):
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        return len(self.sampler)


def _identity(x):
    return x
