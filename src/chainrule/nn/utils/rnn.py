"""Variable-length sequences for the recurrent layers (``torch.nn.utils.rnn``): ``pad_sequence``,
``pack_padded_sequence``, ``pad_packed_sequence``, ``pack_sequence``, ``unpad_sequence``,
``unpack_sequence`` and ``PackedSequence``.

A ``PackedSequence`` holds the sequences sorted by decreasing length and interleaved by time
step: ``data`` (sum of lengths, *) has first the time-0 element of every sequence, then the
time-1 element of every sequence still running, and so on; ``batch_sizes[t]`` counts the
sequences at step t. ``sorted_indices`` (or None when the batch came sorted) maps sorted
positions to the original batch, ``unsorted_indices`` back. Every step here is indexing and
concatenation on tensors, so gradients flow to the padded input.
"""
from typing import NamedTuple

import numpy as np

from ...functions import cat
from ...tensor import Tensor
from ...autograd.tensor_base import make_tensor

__all__ = ["PackedSequence", "pack_padded_sequence", "pack_sequence", "pad_packed_sequence",
           "pad_sequence", "unpack_sequence", "unpad_sequence"]


class _PackedSequenceFields(NamedTuple):
    data: Tensor
    batch_sizes: Tensor
    sorted_indices: Tensor = None
    unsorted_indices: Tensor = None


class PackedSequence(_PackedSequenceFields):
    """(data, batch_sizes, sorted_indices, unsorted_indices), as PyTorch's; build it with
    ``pack_padded_sequence`` or ``pack_sequence``. Given only sorted_indices, unsorted_indices
    is its inverse."""

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if batch_sizes is None:
            raise TypeError("PackedSequence: batch_sizes is needed (build one with "
                            "pack_padded_sequence or pack_sequence)")
        if unsorted_indices is None and sorted_indices is not None:
            unsorted_indices = _invert(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)

    def _with_data(self, data):
        return type(self)(data, self.batch_sizes, self.sorted_indices, self.unsorted_indices)

    def to(self, *args, **kwargs):
        data = self.data.to(*args, **kwargs)
        return self if data is self.data else self._with_data(data)

    def cpu(self):
        return self

    def double(self):
        return self._with_data(self.data.double())

    def float(self):
        return self._with_data(self.data.float())

    @property
    def is_cuda(self):
        return False

    def is_pinned(self):
        return False


def _invert(permutation):
    p = permutation.array if isinstance(permutation, Tensor) else np.asarray(permutation)
    inverse = np.empty_like(p)
    inverse[p] = np.arange(p.size, dtype=p.dtype)
    return make_tensor(inverse)


def _lengths_array(lengths, op):
    if isinstance(lengths, Tensor):
        if lengths.array.dtype.kind not in "iu":
            raise TypeError(f"{op}: lengths must be an integer tensor or a list of ints, got "
                            f"dtype {lengths.dtype}")
        arr = lengths.array.astype(np.int64)
    else:
        arr = np.asarray(lengths, dtype=np.int64)
    if arr.ndim != 1:
        raise RuntimeError(f"{op}: 'lengths' argument should be a 1D tensor or list, got shape "
                           f"{tuple(arr.shape)}")
    return arr


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack tensors of shapes (L_i, *) into (max L, B, *) ((B, max L, *) with batch_first),
    filling with ``padding_value`` after each sequence (before it with padding_side='left')."""
    if padding_side not in ("left", "right"):
        raise ValueError(f"Expected padding_side to be one of left or right, but got "
                         f"{padding_side}.")
    if isinstance(sequences, Tensor):
        sequences = list(sequences.unbind(0))
    sequences = list(sequences)
    if not sequences:
        raise RuntimeError("pad_sequence: received an empty list of sequences")
    for i, s in enumerate(sequences):
        if not isinstance(s, Tensor) or s.ndim < 1:
            raise TypeError(f"pad_sequence: sequence {i} must be a tensor with at least one "
                            f"dimension, got {getattr(s, 'shape', type(s).__name__)}")
        if tuple(s.shape[1:]) != tuple(sequences[0].shape[1:]):
            raise RuntimeError(f"pad_sequence: every sequence must have the trailing shape "
                               f"{tuple(sequences[0].shape[1:])}, sequence {i} has "
                               f"{tuple(s.shape)}")
    lengths = np.array([s.shape[0] for s in sequences], dtype=np.int64)
    T = int(lengths.max())
    first = sequences[0]
    pad_row = make_tensor(np.full((1,) + tuple(first.shape[1:]), padding_value,
                                  dtype=first.array.dtype))
    rows = cat(sequences + [pad_row], 0)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    t = np.arange(T)[:, None]
    shift = (T - lengths)[None, :] if padding_side == "left" else 0
    inside = (t - shift >= 0) & (t - shift < lengths[None, :])
    index = np.where(inside, starts[None, :] + t - shift, int(lengths.sum()))   # (T, B)
    return rows[index.T if batch_first else index]


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch (T, B, *) ((B, T, *) with batch_first) of sequences of ``lengths``
    into a ``PackedSequence``. With enforce_sorted the lengths must decrease; otherwise the
    batch is sorted here and the permutation kept for the recurrent layers to undo."""
    op = "pack_padded_sequence"
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}: input must be a Tensor, got {type(input).__name__}")
    lengths = _lengths_array(lengths, op)
    if batch_first:
        input = input.transpose(0, 1)
    T, B = input.shape[:2]
    if lengths.size != B:
        raise RuntimeError(f"{op}: Expected `len(lengths)` to be equal to batch_size, but got "
                           f"{lengths.size} (batch_size={B})")
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise RuntimeError("`lengths` array must be sorted in decreasing order when "
                               "`enforce_sorted` is True. You can pass `enforce_sorted=False` "
                               "to pack_padded_sequence and/or pack_sequence to sidestep this "
                               "requirement if you do not need ONNX exportability.")
        order, sorted_indices = np.arange(B), None
    else:
        order = np.argsort(-lengths, kind="stable")
        sorted_indices = make_tensor(order.astype(np.int64))
    lengths = lengths[order]
    if B and lengths[-1] <= 0:
        raise RuntimeError("Length of all samples has to be greater than 0, but found an element "
                           "in 'lengths' that is <= 0")
    if lengths[0] > T:
        raise RuntimeError(f"{op}: a length {int(lengths[0])} exceeds the padded length {T}")
    batch_sizes = (lengths[None, :] > np.arange(int(lengths[0]))[:, None]).sum(axis=1)
    steps = np.repeat(np.arange(batch_sizes.size), batch_sizes)
    columns = np.concatenate([np.arange(b) for b in batch_sizes])
    data = input[steps, order[columns]]
    return PackedSequence(data, make_tensor(batch_sizes.astype(np.int64)), sorted_indices)


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """The inverse of ``pack_padded_sequence``: (padded (T, B, *) or (B, T, *), lengths), the
    batch in its original order; T = total_length when given (at least the longest length)."""
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"pad_packed_sequence: expected a PackedSequence, got "
                        f"{type(sequence).__name__}")
    data = sequence.data
    batch_sizes = sequence.batch_sizes.array.astype(np.int64)
    T_max, B = batch_sizes.size, int(batch_sizes[0])
    if total_length is not None:
        if total_length < T_max:
            raise ValueError(f"Expected total_length to be at least the length of the longest "
                             f"sequence in input, but got total_length={total_length} and max "
                             f"sequence length being {T_max}")
        T = int(total_length)
    else:
        T = T_max
    starts = np.zeros(T, dtype=np.int64)                # where each step's rows begin in data
    starts[1:T_max] = np.cumsum(batch_sizes)[:-1]
    b = np.arange(B)[None, :]
    running = np.zeros((T, B), dtype=bool)
    running[:T_max] = b < batch_sizes[:, None]
    index = np.where(running, starts[:, None] + b, data.shape[0])
    pad_row = make_tensor(np.full((1,) + tuple(data.shape[1:]), padding_value,
                                  dtype=data.array.dtype))
    padded = cat([data, pad_row], 0)[index]                           # (T, B, *), sorted order
    lengths = running.sum(axis=0)
    if sequence.unsorted_indices is not None:
        unsorted = sequence.unsorted_indices.array
        padded = padded[:, unsorted]
        lengths = lengths[unsorted]
    if batch_first:
        padded = padded.transpose(0, 1)
    return padded, make_tensor(lengths.astype(np.int64))


def pack_sequence(sequences, enforce_sorted=True):
    """Pack a list of tensors (L_i, *) (decreasing lengths unless enforce_sorted=False)."""
    lengths = [s.shape[0] for s in sequences]
    return pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=enforce_sorted)


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The sequences of a padded batch, each cut to its length: a list of (L_i, *)."""
    lengths = _lengths_array(lengths, "unpad_sequence")
    if not batch_first:
        padded_sequences = padded_sequences.transpose(0, 1)
    return [padded_sequences[i, :int(n)] for i, n in enumerate(lengths)]


def unpack_sequence(packed_sequences):
    """The sequences of a PackedSequence, in their original order: a list of (L_i, *)."""
    padded, lengths = pad_packed_sequence(packed_sequences, batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
