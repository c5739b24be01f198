"""Character-level text for language modelling (``TextCorpus``)."""
import os

import numpy as np

from ..tensor import Tensor
from ..utils.data import Dataset
from ..autograd.tensor_base import make_tensor
from .download import download_files


class Vocabulary:
    """The sorted set of characters of a text; ``encode`` / ``decode`` map text to ids and back."""

    def __init__(self, chars):
        self.itos = sorted(set(chars))
        self.stoi = {c: i for i, c in enumerate(self.itos)}

    def __len__(self):
        return len(self.itos)

    def encode(self, text):
        try:
            return make_tensor(np.fromiter((self.stoi[c] for c in text), dtype=np.int64,
                                            count=len(text)))
        except KeyError as e:
            raise ValueError(f"encode: the character {e.args[0]!r} is not in the vocabulary "
                             f"({len(self)} characters)") from None

    def decode(self, ids):
        ids = ids.array if isinstance(ids, Tensor) else np.asarray(ids)
        return "".join(self.itos[int(i)] for i in ids.reshape(-1))


class TextCorpus(Dataset):
    """Windows of ``seq_len`` characters from a text file, as ``(input, target)`` int64 pairs.

    ``target="shifted"`` (default): target is the input moved one character on (for RNNs and
    transformers: predict every next character). ``target="next"``: target is the single character
    after the window (for an MLP over a fixed context). Windows start every ``stride`` characters
    (``seq_len`` by default: non-overlapping).

    >>> corpus = TextCorpus("tinyshakespeare.txt", seq_len=64)
    >>> train, val = corpus.split(0.1)    # the text's last 10% for validation, no overlap
    >>> corpus.decode(corpus.encode("To be"))
    'To be'

    ``TextCorpus.download(root)`` fetches the tiny-Shakespeare corpus and gives its path.
    """

    # Karpathy's char-rnn copy of tiny Shakespeare (1,115,394 bytes) and its sha256
    shakespeare_urls = ["https://raw.githubusercontent.com/karpathy/char-rnn/master/data/"
                        "tinyshakespeare/input.txt"]
    shakespeare_sha256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"
    shakespeare_file = "tinyshakespeare.txt"

    def __init__(self, path=None, seq_len=64, stride=None, target="shifted", text=None,
                 vocab=None, encoding="utf-8"):
        if text is None:
            if path is None:
                raise ValueError("TextCorpus: give a path (or text=)")
            try:
                with open(path, encoding=encoding) as f:
                    text = f.read()
            except FileNotFoundError:
                raise FileNotFoundError(f"TextCorpus: no such file {str(path)!r}") from None
        if int(seq_len) != seq_len or seq_len < 1:
            raise ValueError(f"TextCorpus: seq_len must be a positive integer, got {seq_len!r}")
        if target not in ("shifted", "next"):
            raise ValueError(f"TextCorpus: target must be 'shifted' or 'next', got {target!r}")
        self.path, self.text, self.seq_len = path, text, int(seq_len)
        self.stride = int(stride or seq_len)
        self.target = target
        self.vocab = vocab or Vocabulary(text)
        self.ids = self.vocab.encode(text).array
        if len(self.ids) < self.seq_len + 1:
            raise ValueError(f"TextCorpus: the text has {len(self.ids)} characters, fewer than "
                             f"seq_len + 1 = {self.seq_len + 1}")
        self.starts = np.arange(0, len(self.ids) - self.seq_len, self.stride, dtype=np.int64)

    @classmethod
    def download(cls, root, progress=True):
        """The path of ``<root>/tinyshakespeare.txt``, fetched first if it is not there.

        The text is renamed into place only once its sha256 matches the published one.
        """
        root = os.path.expanduser(str(root))
        path = os.path.join(root, cls.shakespeare_file)
        if not os.path.isfile(path):
            download_files("TextCorpus", [(cls.shakespeare_file, cls.shakespeare_sha256,
                                           cls.shakespeare_urls)], root, "sha256", progress)
        return path

    @property
    def vocab_size(self):
        return len(self.vocab)

    def encode(self, text):
        return self.vocab.encode(text)

    def decode(self, ids):
        return self.vocab.decode(ids)

    def __len__(self):
        return len(self.starts)

    def __getitem__(self, index):
        n = len(self.starts)
        if not -n <= index < n:
            raise IndexError(f"TextCorpus: index {index} is out of range for {n} windows")
        x, y = self._fetch_batch(np.asarray([index % n]))
        return make_tensor(x.array[0]), make_tensor(y.array[0])

    def _fetch_batch(self, indices):
        starts = self.starts[indices]
        window = starts[:, None] + np.arange(self.seq_len + 1)
        chunk = self.ids[window]
        if self.target == "next":
            return [make_tensor(chunk[:, :-1]), make_tensor(chunk[:, -1].copy())]
        return [make_tensor(chunk[:, :-1]), make_tensor(chunk[:, 1:])]

    def split(self, val_fraction=0.1):
        """``(train, val)`` corpora over the first and last parts of the text, sharing the vocabulary."""
        if not 0 < val_fraction < 1:
            raise ValueError(f"TextCorpus.split: val_fraction must be between 0 and 1, got "
                             f"{val_fraction}")
        cut = int(len(self.text) * (1 - val_fraction))
        make = lambda t: TextCorpus(seq_len=self.seq_len, stride=self.stride,  # noqa: E731
                                    target=self.target, text=t, vocab=self.vocab)
        return make(self.text[:cut]), make(self.text[cut:])

    def __repr__(self):
        return (f"TextCorpus({len(self.ids)} characters, vocabulary {self.vocab_size}, "
                f"{len(self)} windows of {self.seq_len})")
