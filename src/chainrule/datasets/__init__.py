"""Datasets: the playground's 2-D sets, (Fashion-)MNIST from IDX files, CIFAR-10 from its python
batches, character text, CSV tables."""
from .cifar import CIFAR10, CIFARFileError, UnsafeFileError
from .csv import CSVDataset, Scaler, from_csv
from .download import DownloadError
from .mnist import MNIST, FashionMNIST, MNISTFileError, load_mnist
from .playground import (CLASSIFICATION, PLAYGROUND, REGRESSION, blobs, circle, gaussian, make,
                         multi_gaussian, plane, spiral, spirals, train_test_split, two_moons, xor)
from .text import TextCorpus, Vocabulary

__all__ = ["CIFAR10", "CIFARFileError", "UnsafeFileError", "CSVDataset", "Scaler", "from_csv",
           "DownloadError", "MNIST", "FashionMNIST", "MNISTFileError", "load_mnist",
           "CLASSIFICATION", "PLAYGROUND", "REGRESSION", "blobs", "circle", "gaussian", "make",
           "multi_gaussian", "plane", "spiral", "spirals", "train_test_split", "two_moons", "xor",
           "TextCorpus", "Vocabulary"]
