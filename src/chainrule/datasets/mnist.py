"""MNIST and Fashion-MNIST from the standard IDX files in a folder you name (or downloaded there).

The folder holds (gzipped or not; torchvision's ``<root>/MNIST/raw`` layout works too, and is
where ``download=True`` puts them: ``<root>/MNIST/raw``, ``<root>/FashionMNIST/raw``)::

    train-images-idx3-ubyte[.gz]  train-labels-idx1-ubyte[.gz]   60,000 training images
    t10k-images-idx3-ubyte[.gz]   t10k-labels-idx1-ubyte[.gz]    10,000 test images

IDX format: a big-endian header (magic number 2051 for images / 2049 for labels, then the item
count, then rows and columns for images) followed by one unsigned byte per pixel or label.
"""
import gzip
import os
import shlex
import zlib

import numpy as np

from ..autograd.tensor_base import make_tensor
from .images import ImageDataset
from .download import download_files

IMAGES_MAGIC, LABELS_MAGIC = 2051, 2049
HOW_TO_GET = ("Pass download=True (or run: chainrule data download {command} --root {shell_root}) to "
              "fetch them, or get the four files ({files}) from {mirrors} and put them in {root}")


class MNISTFileError(OSError):
    """A missing, truncated or damaged MNIST file (the message names the file)."""


def _read_bytes(path, dataset):
    try:
        if path.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                return f.read()
        with open(path, "rb") as f:
            return f.read()
    except (OSError, EOFError, zlib.error) as e:
        raise MNISTFileError(f"{dataset}: cannot read {path!r}: the file is damaged or truncated "
                             f"({e}). Replace it with a fresh copy.") from None


def read_idx(path, magic, dims, dataset="MNIST"):
    """The array stored in an IDX file whose header has ``magic`` and ``dims`` sizes."""
    raw = _read_bytes(path, dataset)
    header_len = 4 * (1 + dims)
    if len(raw) < header_len:
        raise MNISTFileError(f"{dataset}: {path!r} is too short ({len(raw)} bytes) to hold an IDX "
                             f"header")
    header = np.frombuffer(raw, dtype=">u4", count=1 + dims)
    if int(header[0]) != magic:
        raise MNISTFileError(f"{dataset}: {path!r} has magic number {int(header[0])}, expected {magic} "
                             f"({'images' if magic == IMAGES_MAGIC else 'labels'} file): it is the "
                             f"wrong file or damaged")
    shape = tuple(int(s) for s in header[1:])
    expected = header_len + int(np.prod(shape))
    if len(raw) != expected:
        raise MNISTFileError(f"{dataset}: {path!r} should be {expected} bytes for its header's shape "
                             f"{shape}, but it is {len(raw)} bytes: the file is truncated or damaged")
    return np.frombuffer(raw, dtype=np.uint8, offset=header_len).reshape(shape)


class MNIST(ImageDataset):
    """Handwritten digits, 28x28 grey-scale (``torchvision.datasets.MNIST``).

    ``dataset[i]`` is ``(image, label)``: image a float32 tensor (1, 28, 28) in [0, 1] (what
    ``ToTensor`` gives in torchvision) passed through ``transform`` if given, label an int.
    ``dataset.data`` holds the raw uint8 images (N, 28, 28), ``dataset.targets`` the int64 labels.
    ``dataset.tensors()`` gives all images and labels at once for quick experiments.
    ``download=True`` first fetches the files missing from ``root`` (see ``download``).
    """

    # torchvision's mirrors and the published MD5 of each file
    mirrors = ["https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"]
    resources = [("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
                 ("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
                 ("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
                 ("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c")]
    command = "mnist"
    classes = ["0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six",
               "7 - seven", "8 - eight", "9 - nine"]

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        name = type(self).__name__
        root = os.path.expanduser(str(root))
        if download:
            type(self).download(root)
        if not os.path.isdir(root):
            raise MNISTFileError(f"{name}: the folder {root!r} does not exist. "
                                 + self._how_to_get(root))
        prefix = "train" if train else "t10k"
        images_path = self._find(root, f"{prefix}-images-idx3-ubyte")
        labels_path = self._find(root, f"{prefix}-labels-idx1-ubyte")
        images = read_idx(images_path, IMAGES_MAGIC, 3, name)
        labels = read_idx(labels_path, LABELS_MAGIC, 1, name)
        if images.shape[1:] != (28, 28):
            raise MNISTFileError(f"{name}: {images_path!r} holds images of size {images.shape[1:]}, "
                                 f"expected (28, 28)")
        if len(images) != len(labels):
            raise MNISTFileError(f"{name}: {images_path!r} holds {len(images)} images but "
                                 f"{labels_path!r} holds {len(labels)} labels")
        if len(labels) and labels.max() > 9:
            raise MNISTFileError(f"{name}: {labels_path!r} holds the label {int(labels.max())}; "
                                 f"digits are 0 to 9, so the file is damaged")
        self.root, self.train = root, train
        self.transform, self.target_transform = transform, target_transform
        self.data = make_tensor(images)
        self.targets = make_tensor(labels.astype(np.int64))

    @classmethod
    def raw_folder(cls, root):
        """Where ``download`` puts the files: ``<root>/<class name>/raw``, as torchvision does."""
        return os.path.join(os.path.expanduser(str(root)), cls.__name__, "raw")

    @classmethod
    def _locate(cls, root, stem):
        for folder in (root, cls.raw_folder(root)):
            for name in (stem, stem + ".gz"):
                path = os.path.join(folder, name)
                if os.path.isfile(path):
                    return path
        return None

    @classmethod
    def _find(cls, root, stem):
        path = cls._locate(root, stem)
        if path is None:
            raise MNISTFileError(f"{cls.__name__}: {stem}[.gz] not found in {root!r}. "
                                 + cls._how_to_get(root))
        return path

    @classmethod
    def _how_to_get(cls, root):
        return HOW_TO_GET.format(command=cls.command, root=repr(root), shell_root=shlex.quote(root),
                                 files=", ".join(name for name, _ in cls.resources),
                                 mirrors=" or ".join(cls.mirrors))

    @classmethod
    def download(cls, root, progress=True):
        """Fetch the files missing from ``root`` into ``raw_folder(root)``; that folder.

        Each file comes from the first of ``mirrors`` that serves it with its published MD5 and is
        renamed into place only then; a file already there (gzipped or not) is not fetched again.
        """
        root = os.path.expanduser(str(root))
        missing = [(name, md5, [mirror + name for mirror in cls.mirrors])
                   for name, md5 in cls.resources if cls._locate(root, name[:-len(".gz")]) is None]
        download_files(cls.__name__, missing, cls.raw_folder(root), "md5", progress)
        return cls.raw_folder(root)

    def __len__(self):
        return self.data.shape[0]

    def _label_array(self):
        return self.targets.array

    def _images(self, indices, flatten=False):
        x = self.data.array[indices].astype(np.float32) / np.float32(255)
        return make_tensor(x.reshape(len(x), -1) if flatten else x[:, None])


    def __repr__(self):
        return (f"{type(self).__name__}({'train' if self.train else 'test'} split, {len(self)} images, "
                f"root={self.root!r})")


def load_mnist(root, train=True, flatten=False):
    """``(images, labels)`` tensors in one call: ``MNIST(root, train).tensors(flatten)``."""
    return MNIST(root, train=train).tensors(flatten=flatten)


class FashionMNIST(MNIST):
    """Zalando's Fashion-MNIST: 28x28 grey-scale clothes in 10 classes, in MNIST's IDX format and
    file names (``torchvision.datasets.FashionMNIST``); everything else as ``MNIST``."""

    mirrors = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
    resources = [("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
                 ("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
                 ("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
                 ("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310")]
    command = "fashion-mnist"
    classes = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker",
               "Bag", "Ankle boot"]
