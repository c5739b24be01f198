"""CIFAR-10 from the python version's pickled batches (``torchvision.datasets.CIFAR10``).

``download=True`` fetches ``cifar-10-python.tar.gz`` into ``root`` and unpacks it there::

    <root>/cifar-10-batches-py/data_batch_1 ... data_batch_5   50,000 training images
    <root>/cifar-10-batches-py/test_batch                       10,000 test images

Each batch is a pickled dict: ``data`` a uint8 array (10000, 3072), one image per row holding its
1024 red, then 1024 green, then 1024 blue values, each plane row by row; ``labels`` a list of
10000 ints in 0..9. Loading a pickle can run any code it names, so batches are read by an
unpickler that knows only the NumPy names an array needs, and the archive is unpacked only when
every member is a plain file or folder inside ``root``.
"""
import os
import pickle
import shlex
import shutil
import tarfile

import numpy as np

from ..autograd.tensor_base import make_tensor
from .images import ImageDataset
from .download import download_files, file_digest

HOW_TO_GET = ("Pass download=True (or run: chainrule data download cifar10 --root {shell_root}) to "
              "fetch and unpack them, or get {archive} from {url} and put it in {root}, then pass "
              "download=True to unpack it")


class CIFARFileError(OSError):
    """A missing or damaged CIFAR-10 file (the message names the file and how to get it)."""


class UnsafeFileError(CIFARFileError):
    """An archive member or a pickle that reaches beyond plain data; refused before it acts."""


def _latin1_bytes(text, encoding):
    # Python 3 writes bytes into a protocol-2 pickle as the call _codecs.encode(text, "latin1")
    if encoding != "latin1":
        raise UnsafeFileError(f"a pickle asks for the codec {encoding!r}; only latin1 is allowed")
    return text.encode("latin1")


# the one function NumPy pickles an array with, found through NumPy itself because its module is
# numpy.core.multiarray in NumPy 1 (CIFAR's own files) and numpy._core.multiarray in NumPy 2
_RECONSTRUCT = np.empty(0).__reduce__()[0]
ALLOWED_GLOBALS = {("numpy.core.multiarray", "_reconstruct"): _RECONSTRUCT,
                   ("numpy._core.multiarray", "_reconstruct"): _RECONSTRUCT,
                   ("numpy", "ndarray"): np.ndarray,
                   ("numpy", "dtype"): np.dtype,
                   ("_codecs", "encode"): _latin1_bytes}


class _BatchUnpickler(pickle.Unpickler):
    """Rebuilds dicts, lists, strings, bytes, numbers and NumPy arrays, and no other object: any
    other global a pickle names (``os.system``, ``builtins.eval``...) is refused unresolved."""

    def __init__(self, file, path):
        super().__init__(file, encoding="latin1")    # what torchvision reads Python 2's pickles with
        self.path = path

    def find_class(self, module, name):
        try:
            return ALLOWED_GLOBALS[module, name]
        except KeyError:
            raise UnsafeFileError(f"CIFAR10: {self.path!r} is not a plain data pickle: it names the "
                                  f"global {module}.{name}, which is refused (nothing was run)") from None


def load_batch(path):
    """The ``(images, labels)`` of one batch file: uint8 (N, 32, 32, 3) as torchvision, and ints."""
    try:
        with open(path, "rb") as f:
            entry = _BatchUnpickler(f, path).load()
    except UnsafeFileError:
        raise
    except Exception as e:                          # a damaged pickle can fail with almost any error
        raise CIFARFileError(f"CIFAR10: cannot read {path!r}: the file is damaged ({e!r})") from None
    data = entry.get("data") if isinstance(entry, dict) else None
    labels = entry.get("labels") if isinstance(entry, dict) else None
    if not (isinstance(data, np.ndarray) and data.dtype == np.uint8 and data.ndim == 2
            and data.shape[1] == 3 * 32 * 32 and isinstance(labels, list) and len(labels) == len(data)
            and all(isinstance(label, int) and 0 <= label <= 9 for label in labels)):
        raise CIFARFileError(f"CIFAR10: {path!r} is not a CIFAR-10 batch: expected a dict with 'data' "
                             f"(uint8, N x 3072) and 'labels' (N ints in 0..9)")
    return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels


def _check_member(member, archive):
    parts = member.name.replace("\\", "/").split("/")
    if os.path.isabs(member.name) or member.name.startswith(("/", "\\")) or ".." in parts:
        raise UnsafeFileError(f"{archive!r}: the member {member.name!r} would land outside the folder; "
                              f"nothing was unpacked")
    if not (member.isfile() or member.isdir()):
        raise UnsafeFileError(f"{archive!r}: the member {member.name!r} is a link or special file; "
                              f"nothing was unpacked")


def extract_safely(archive, folder):
    """Unpack the tar ``archive`` (gzipped or not) into ``folder``.

    Every member is checked first: only plain files and folders with relative names free of
    ``..``; one other refuses the whole archive. Files are written by name, without the archive's
    owners or permissions (what ``tarfile``'s ``"data"`` filter does, on every Python version).
    """
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
        for member in members:
            _check_member(member, archive)
        for member in members:
            target = os.path.join(folder, member.name)
            if member.isdir():
                os.makedirs(target, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            with tar.extractfile(member) as source, open(target, "wb") as out:
                shutil.copyfileobj(source, out)


class CIFAR10(ImageDataset):
    """32x32 colour photographs in 10 classes (``torchvision.datasets.CIFAR10``).

    ``dataset[i]`` is ``(image, label)``: image a float32 tensor (3, 32, 32) in [0, 1] (what
    ``ToTensor`` gives in torchvision) passed through ``transform`` if given, label an int through
    ``target_transform``. As torchvision's, ``dataset.data`` is the uint8 NumPy array
    (N, 32, 32, 3) and ``dataset.targets`` the list of labels. ``dataset.tensors()`` gives all
    images and labels at once. ``download=True`` first fetches and unpacks the archive into
    ``root`` unless the batches are already there (see ``download``).
    """

    # torchvision's URL, folder, files and their published MD5s
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    base_folder = "cifar-10-batches-py"
    train_list = [["data_batch_1", "c99cafc152244af753f735de768cd75f"],
                  ["data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"],
                  ["data_batch_3", "54ebc095f3ab1f0389bbae665268c751"],
                  ["data_batch_4", "634d18415352ddfa80567beed471001a"],
                  ["data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"]]
    test_list = [["test_batch", "40351d587109b95175f43aff81a1287e"]]
    classes = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
               "truck"]

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        root = os.path.expanduser(str(root))
        if download:
            type(self).download(root)
        images, labels = [], []
        for name, md5 in (self.train_list if train else self.test_list):
            path = self._verified(root, name, md5)
            batch_images, batch_labels = load_batch(path)
            images.append(batch_images)
            labels.extend(batch_labels)
        self.root, self.train = root, train
        self.transform, self.target_transform = transform, target_transform
        self.data = np.concatenate(images)
        self.targets = labels
        self._labels = np.asarray(labels, dtype=np.int64)

    @classmethod
    def _verified(cls, root, name, md5):
        """The path of batch ``name``, refused unless its MD5 is the published ``md5``."""
        path = os.path.join(root, cls.base_folder, name)
        if not os.path.isfile(path):
            raise CIFARFileError(f"{cls.__name__}: {name} not found in "
                                 f"{os.path.join(root, cls.base_folder)!r}. " + cls._how_to_get(root))
        actual = file_digest(path, "md5")
        if actual != md5:
            raise CIFARFileError(f"{cls.__name__}: {path!r} has md5 {actual}, the published one is "
                                 f"{md5}: the file is damaged or not CIFAR-10's. "
                                 + cls._how_to_get(root))
        return path

    @classmethod
    def _intact(cls, root):
        folder = os.path.join(root, cls.base_folder)
        return all(os.path.isfile(os.path.join(folder, name))
                   and file_digest(os.path.join(folder, name), "md5") == md5
                   for name, md5 in cls.train_list + cls.test_list)

    @classmethod
    def _how_to_get(cls, root):
        return HOW_TO_GET.format(shell_root=shlex.quote(root), archive=cls.filename, url=cls.url,
                                 root=repr(root))

    @classmethod
    def download(cls, root, progress=True):
        """Fetch ``cifar-10-python.tar.gz`` into ``root`` and unpack it there; the batches' folder.

        Nothing is fetched when every batch is already there with its published MD5, and an
        archive already in ``root`` with the published MD5 is unpacked without a download.
        """
        root = os.path.expanduser(str(root))
        folder = os.path.join(root, cls.base_folder)
        if cls._intact(root):
            return folder
        archive = os.path.join(root, cls.filename)
        if not (os.path.isfile(archive) and file_digest(archive, "md5") == cls.tgz_md5):
            download_files(cls.__name__, [(cls.filename, cls.tgz_md5, [cls.url])], root, "md5",
                           progress)
        extract_safely(archive, root)
        for name, md5 in cls.train_list + cls.test_list:
            cls._verified(root, name, md5)
        return folder

    def __len__(self):
        return len(self.data)

    def _label_array(self):
        return self._labels

    def _images(self, indices, flatten=False):
        x = self.data[indices].transpose(0, 3, 1, 2).astype(np.float32) / np.float32(255)
        return make_tensor(x.reshape(len(x), -1) if flatten else x)


    def __repr__(self):
        return (f"{type(self).__name__}({'train' if self.train else 'test'} split, {len(self)} images, "
                f"root={self.root!r})")
