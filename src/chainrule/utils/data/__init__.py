"""Datasets and mini-batch loaders (``torch.utils.data``).

A ``Dataset`` maps an index to one sample (``dataset.py``); a sampler orders the indices
(``sampler.py``); a ``DataLoader`` walks the dataset in mini-batches, stacking the samples of a
batch with ``collate_fn`` (``collate.py``, ``dataloader.py``), in this process or in
``num_workers`` worker processes (``worker.py``, ``get_worker_info``).
"""
from .collate import default_collate
from .dataloader import DataLoader
from .dataset import ConcatDataset, Dataset, Subset, TensorDataset, random_split
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler, SubsetRandomSampler
from .worker import WorkerInfo, get_worker_info
from .distributed import DistributedSampler

__all__ = ["BatchSampler", "ConcatDataset", "DataLoader", "Dataset", "DistributedSampler", "RandomSampler", "Sampler",
           "SequentialSampler", "Subset", "SubsetRandomSampler", "TensorDataset", "WorkerInfo",
           "default_collate", "get_worker_info", "random_split"]
