"""MNIST from the standard IDX files in a folder you name. Nothing is ever downloaded.

The folder holds (gzipped or not; torchvision's ``<root>/MNIST/raw`` layout works too)::

    train-images-idx3-ubyte[.gz]  train-labels-idx1-ubyte[.gz]   60,000 training images
    t10k-images-idx3-ubyte[.gz]   t10k-labels-idx1-ubyte[.gz]    10,000 test images

IDX format: a big-endian header (magic number 2051 for images / 2049 for labels, then the item
count, then rows and columns for images) followed by one unsigned byte per pixel or label.
"""
import gzip
import os
import zlib

import numpy as np

from ..utils.data import Dataset
from ..autograd.tensor_base import make_tensor

IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049
HOW_TO_GET = ("MNIST is not downloaded automatically. Get the four files (train-images-idx3-ubyte.gz, "
              "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz) "
              "from https://yann.lecun.com/exdb/mnist/ or a mirror such as "
              "https://ossci-datasets.s3.amazonaws.com/mnist/ and put them in {root}")


class MNISTFileError(OSError):
    """A missing, truncated or damaged MNIST file (the message names the file)."""


def _find(root, stem):
    for folder in (root, os.path.join(root, "MNIST", "raw")):
        for name in (stem, stem + ".gz"):
            path = os.path.join(folder, name)
            if os.path.isfile(path):
                return path
    raise MNISTFileError(f"MNIST: {stem}[.gz] not found in {root!r}. "
                         + HOW_TO_GET.format(root=repr(root)))


def _read_bytes(path):
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                return f.read()
        with open(path, "rb") as f:
            return f.read()
    except (OSError, EOFError, zlib.error) as e:
        raise MNISTFileError(f"MNIST: cannot read {path!r}: the file is damaged or truncated ({e}). "
                             f"Replace it with a fresh copy.") from None


def read_idx(path, magic, dims):
    """The array stored in an IDX file whose header has ``magic`` and ``dims`` sizes."""
    raw = _read_bytes(path)
    header_len = 4 * (1 + dims)
    if len(raw) < header_len:
        raise MNISTFileError(f"MNIST: {path!r} is too short ({len(raw)} bytes) to hold an IDX header")
    header = np.frombuffer(raw, dtype=">u4", count=1 + dims)
    if int(header[0]) != magic:
        raise MNISTFileError(f"MNIST: {path!r} has magic number {int(header[0])}, expected {magic} "
                             f"({'images' if magic == IMAGES_MAGIC else 'labels'} file): it is the "
                             f"wrong file or damaged")
    shape = tuple(int(s) for s in header[1:])
    expected = header_len + int(np.prod(shape))
    if len(raw) != expected:
        raise MNISTFileError(f"MNIST: {path!r} should be {expected} bytes for its header's shape "
                             f"{shape}, but it is {len(raw)} bytes: the file is truncated or damaged")
    return np.frombuffer(raw, dtype=np.uint8, offset=header_len).reshape(shape)


class MNIST(Dataset):
    """Handwritten digits, 28x28 grey-scale (``torchvision.datasets.MNIST`` without downloading).

    ``dataset[i]`` is ``(image, label)``: image a float32 tensor (1, 28, 28) in [0, 1] (what
    ``ToTensor`` gives in torchvision) passed through ``transform`` if given, label an int.
    ``dataset.data`` holds the raw uint8 images (N, 28, 28), ``dataset.targets`` the int64 labels.
    ``dataset.tensors()`` gives all images and labels at once for quick experiments.
    """

    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
               "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        if download:
            raise ValueError("MNIST: chainrule never downloads. " + HOW_TO_GET.format(root=repr(root)))
        root = os.path.expanduser(str(root))
        if not os.path.isdir(root):
            raise MNISTFileError(f"MNIST: the folder {root!r} does not exist. "
                                 + HOW_TO_GET.format(root=repr(root)))
        prefix = "train" if train else "t10k"
        images_path = _find(root, f"{prefix}-images-idx3-ubyte")
        labels_path = _find(root, f"{prefix}-labels-idx1-ubyte")
        images = read_idx(images_path, IMAGES_MAGIC, 3)
        labels = read_idx(labels_path, LABELS_MAGIC, 1)
        if images.shape[1:] != (28, 28):
            raise MNISTFileError(f"MNIST: {images_path!r} holds images of size {images.shape[1:]}, "
                                 f"expected (28, 28)")
        if len(images) != len(labels):
            raise MNISTFileError(f"MNIST: {images_path!r} holds {len(images)} images but "
                                 f"{labels_path!r} holds {len(labels)} labels")
        if len(labels) and labels.max() > 9:
            raise MNISTFileError(f"MNIST: {labels_path!r} holds the label {int(labels.max())}; "
                                 f"digits are 0 to 9, so the file is damaged")
        self.root, self.train = root, train
        self.transform, self.target_transform = transform, target_transform
        self.data = make_tensor(images)
        self.targets = make_tensor(labels.astype(np.int64))

    def __len__(self):
        return self.data.shape[0]

    def __getitem__(self, index):
        image = make_tensor(self.data.array[index][None].astype(np.float32) / 255)
        target = int(self.targets.array[index])
        if self.transform is not None:
            image = self.transform(image)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return image, target

    @property
    def _fetch_batch(self):
        if self.transform is not None or self.target_transform is not None:
            raise AttributeError("_fetch_batch")
        return lambda indices: [self._images(indices), make_tensor(self.targets.array[indices])]

    def _images(self, indices, flatten=False):
        x = self.data.array[indices].astype(np.float32) / np.float32(255)
        return make_tensor(x.reshape(len(x), -1) if flatten else x[:, None])

    def tensors(self, flatten=False):
        """``(images, labels)``: float32 (N, 1, 28, 28) in [0, 1] (or (N, 784) with ``flatten``)
        and int64 (N,)."""
        return self._images(slice(None), flatten), make_tensor(self.targets.array.copy())

    def __repr__(self):
        return (f"MNIST({'train' if self.train else 'test'} split, {len(self)} images, "
                f"root={self.root!r})")


def load_mnist(root, train=True, flatten=False):
    """``(images, labels)`` tensors in one call: ``MNIST(root, train).tensors(flatten)``."""
    return MNIST(root, train=train).tensors(flatten=flatten)
