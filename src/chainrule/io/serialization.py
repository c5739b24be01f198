"""``cr.save(obj, path)`` and ``cr.load(path)``: safetensors files, and PyTorch's own files.

Which format ``save`` writes: PyTorch's zip format (``torch_format.py``, what ``torch.load``
reads) when the path ends in ``.pt`` or ``.pth`` or ``format="torch"`` is given; safetensors for
``.safetensors``, any other suffix and ``format="safetensors"``. ``load`` looks at the file's
first bytes, never at its name: a zip archive is a PyTorch checkpoint (read by a restricted
unpickler that builds only tensors and containers), anything else must be safetensors.

A state dict (str -> Tensor) is written as a plain safetensors file under its own keys, so other
tools read it as they would any safetensors file. Any other object built from dicts, lists,
tuples, numbers, strings, None, tensors and NumPy arrays (an optimizer's state dict, a full
checkpoint) is split in two: its tensors go into the safetensors data under dotted keys
("optimizer.state.0.exp_avg") and the rest, with a placeholder for each tensor, goes into the
header's metadata as JSON. Loading parses JSON and copies bytes; it can never run code.

Every file carries a SHA-256 of its tensor table, metadata and data, so a flipped byte anywhere
is caught, and writes are
atomic: the file is written to a temporary name in the same folder, flushed, fsync'ed and
renamed over the target, so a crash mid-save leaves the previous file intact.
"""
import hashlib
import json
import math
import os
import re
import stat
import tempfile
import time

import numpy as np

from ..backend import is_device_array
from ..device import device
from ..tensor import Tensor
from . import torch_format
from .safetensors_format import SafetensorsError, deserialize, serialize
from ..autograd.tensor_base import make_tensor

FORMAT = "chainrule"
FORMAT_VERSION = "1"


class CheckpointError(SafetensorsError):
    """A file that cannot be loaded: truncated, damaged, or not written by ``cr.save``."""


# -- encoding arbitrary objects ------------------------------------------------------------------
class _Encoder:
    def __init__(self):
        self.arrays = {}

    def name_for(self, path):
        name = ".".join(path) or "tensor"
        base, i = name, 1
        while name in self.arrays:
            name, i = f"{base}#{i}", i + 1
        return name

    def encode(self, obj, path):
        if isinstance(obj, Tensor):
            name = self.name_for(path)
            self.arrays[name] = obj.array
            return {"__tensor__": name}
        if isinstance(obj, np.ndarray):
            name = self.name_for(path)
            self.arrays[name] = obj
            return {"__ndarray__": name}
        if isinstance(obj, np.generic):
            obj = obj.item()
        if obj is None or isinstance(obj, (bool, int, str)):
            return obj
        if isinstance(obj, float):
            return obj if math.isfinite(obj) else {"__float__": repr(obj)}
        if isinstance(obj, dict):
            plain = all(isinstance(k, str) and not k.startswith("__") for k in obj)
            if plain:
                return {k: self.encode(v, path + [k]) for k, v in obj.items()}
            return {"__items__": [[self.encode(k, path + ["key"]), self.encode(v, path + [str(k)])]
                                  for k, v in obj.items()]}
        if isinstance(obj, tuple):
            return {"__tuple__": [self.encode(v, path + [str(i)]) for i, v in enumerate(obj)]}
        if isinstance(obj, list):
            return [self.encode(v, path + [str(i)]) for i, v in enumerate(obj)]
        raise TypeError(f"save: cannot store an object of type {type(obj).__name__} at "
                        f"{'.'.join(path) or 'the top level'}; chainrule saves dicts, lists, tuples, "
                        f"numbers, strings, None, tensors and NumPy arrays (no pickle)")


def _decode(obj, arrays):
    if isinstance(obj, list):
        return [_decode(v, arrays) for v in obj]
    if not isinstance(obj, dict):
        return obj
    if len(obj) == 1:
        (tag, value), = obj.items()
        if tag == "__tensor__":
            return make_tensor(arrays[value])
        if tag == "__ndarray__":
            return arrays[value]
        if tag == "__float__":
            return float(value)
        if tag == "__tuple__":
            return tuple(_decode(v, arrays) for v in value)
        if tag == "__items__":
            return {_hashable(_decode(k, arrays)): _decode(v, arrays) for k, v in value}
    return {k: _decode(v, arrays) for k, v in obj.items()}


def _hashable(key):
    return tuple(key) if isinstance(key, list) else key


def _is_state_dict(obj):
    return (isinstance(obj, dict) and obj and all(isinstance(k, str) for k in obj)
            and all(isinstance(v, Tensor) for v in obj.values()))


# -- atomic files --------------------------------------------------------------------------------
def atomic_write_bytes(path, data):
    """Write ``data`` to ``path`` so that readers see either the old file or the whole new one."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix="." + os.path.basename(path) + ".", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise
    remove_stale_temporaries(path)
    try:  # make the rename itself durable
        dir_fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)
    except OSError:
        pass


STALE_TEMPORARY_SECONDS = 60


def remove_stale_temporaries(path, older_than=STALE_TEMPORARY_SECONDS):
    """Remove the temporary files that killed writers of ``path`` left beside it: only names of
    atomic_write_bytes's own pattern (``.<name>.<8 characters>.tmp``) untouched for
    ``older_than`` seconds, so a writer still at work keeps its file. Returns the names removed."""
    folder, name = os.path.split(os.path.abspath(path))
    pattern = re.compile(r"\." + re.escape(name) + r"\.[a-z0-9_]{8}\.tmp")
    removed = []
    try:
        entries = os.listdir(folder)
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        if not pattern.fullmatch(entry):
            continue
        full = os.path.join(folder, entry)
        try:
            info = os.lstat(full)            # a link is not followed, nor removed
            if stat.S_ISREG(info.st_mode) and now - info.st_mtime > older_than:
                os.unlink(full)
                removed.append(entry)
        except OSError:
            pass
    return removed


def atomic_write_text(path, text):
    atomic_write_bytes(path, text.encode("utf-8"))


# -- save / load ---------------------------------------------------------------------------------
TORCH_SUFFIXES = (".pt", ".pth")
FORMATS = ("safetensors", "torch")


def save_format(f, format=None):
    """The format ``save`` writes to ``f``: ``format`` if given, else by the path's suffix."""
    if format is not None:
        if format not in FORMATS:
            raise ValueError(f"save: format must be one of {FORMATS}, got {format!r}")
        return format
    name = os.fspath(f) if isinstance(f, (str, os.PathLike)) else getattr(f, "name", "")
    return "torch" if str(name).lower().endswith(TORCH_SUFFIXES) else "safetensors"


def save(obj, f, metadata=None, format=None):
    """Save ``obj`` (a state dict, or nested dicts/lists of tensors, numbers and strings) to the
    path ``f``, atomically: PyTorch's zip format for ``.pt``/``.pth`` or ``format="torch"``,
    else safetensors. ``metadata``: extra str -> str pairs for a safetensors header. Tensors on
    a GPU are copied to the host first (the file holds values, not devices)."""
    obj = _on_host(obj)
    if save_format(f, format) == "torch":
        if metadata:
            raise ValueError("save: metadata goes into a safetensors header; PyTorch's format "
                             "has no place for it (save to .safetensors, or drop metadata)")
        data = torch_format.serialize(obj, _archive_name(f))
        if hasattr(f, "write"):
            f.write(data)
        else:
            atomic_write_bytes(f, data)
        return
    if _is_state_dict(obj):
        arrays = {k: v.array for k, v in obj.items()}
        skeleton = None
    else:
        enc = _Encoder()
        skeleton = enc.encode(obj, [])
        arrays = enc.arrays
    meta = {"format": FORMAT, "format_version": FORMAT_VERSION}
    if skeleton is not None:
        meta["skeleton"] = json.dumps(skeleton, separators=(",", ":"))
    meta.update(metadata or {})
    draft = serialize(arrays, meta)
    n = int.from_bytes(draft[:8], "little")
    entries = json.loads(draft[8:8 + n])
    entries.pop("__metadata__")
    meta["sha256"] = _digest(entries, meta, memoryview(draft)[8 + n:])
    atomic_write_bytes(f, serialize(arrays, meta))


def _check_format_version(path, meta):
    """A file from a newer chainrule may lay its objects out differently: refuse it clearly rather
    than misread it. Files without a version (plain safetensors, other tools') are read as data."""
    if meta.get("format") != FORMAT or "format_version" not in meta:
        return
    try:
        version = int(meta["format_version"])
    except ValueError:
        raise CheckpointError(f"load: {path} has format_version {meta['format_version']!r}, "
                              f"which is not a number: the file is damaged") from None
    if version > int(FORMAT_VERSION):
        raise CheckpointError(f"load: {path} was written in chainrule file format version "
                              f"{version}, newer than the version {FORMAT_VERSION} this chainrule "
                              f"reads; upgrade chainrule to load it")


def _digest(entries, meta, buffer):
    """SHA-256 over the tensor table, the metadata (but the digest itself) and the data bytes."""
    table = json.dumps([entries, {k: v for k, v in meta.items() if k != "sha256"}], sort_keys=True)
    h = hashlib.sha256(table.encode("utf-8"))
    h.update(buffer)
    return h.hexdigest()


def load(f, map_location=None, weights_only=True, mmap=None):
    """Load what ``save`` wrote, any safetensors file, or a file from ``torch.save``.

    ``f`` is a path or a binary file object. Raises ``CheckpointError`` naming the file when it
    is truncated, damaged, or (a PyTorch file) names a global other than tensors and
    containers; nothing is returned half-loaded. Tensors land on the CPU, or on
    ``map_location`` when it names a device (``"cuda"``, ``cr.device("cpu")``); loading never
    runs code, as if ``weights_only=True`` always held.
    """
    obj, _ = load_with_metadata(f)
    if isinstance(map_location, (str, device)):
        obj = _placed(obj, lambda t: t.to(map_location))
    return obj


def _placed(obj, move):
    """``obj`` with every tensor in its dicts, lists and tuples replaced by ``move(tensor)``."""
    if isinstance(obj, Tensor):
        return move(obj)
    if isinstance(obj, dict):
        return type(obj)((k, _placed(v, move)) for k, v in obj.items()) \
            if type(obj) is not dict else {k: _placed(v, move) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)) and not hasattr(obj, "_fields"):
        return type(obj)(_placed(v, move) for v in obj)
    return obj


def _on_host(obj):
    if isinstance(obj, Tensor):
        return obj.detach().cpu() if is_device_array(obj.array) else obj
    if isinstance(obj, (dict, list, tuple)):
        return _placed(obj, lambda t: t.detach().cpu() if is_device_array(t.array) else t)
    return obj


def _archive_name(f):
    name = os.path.basename(str(os.fspath(f) if isinstance(f, (str, os.PathLike))
                                else getattr(f, "name", "archive")))
    stem = name.rsplit(".", 1)[0] if "." in name else name
    return "".join(c if c.isalnum() or c in "_-" else "_" for c in stem) or "archive"


def _read_all(f):
    if hasattr(f, "read"):
        return f.read(), repr(getattr(f, "name", "<file object>"))
    path = os.fspath(f)
    try:
        with open(path, "rb") as fh:
            return fh.read(), repr(path)
    except FileNotFoundError:
        raise FileNotFoundError(f"load: no such file {path!r}") from None


def load_with_metadata(f):
    """``(obj, metadata)``: the object and the header's str -> str metadata (empty for a
    PyTorch file)."""
    raw, path = _read_all(f)
    try:
        if raw[:4] == torch_format.ZIP_MAGIC:
            return torch_format.load_zip(raw, path), {}
        if raw[:len(torch_format.LEGACY_MAGIC)] == torch_format.LEGACY_MAGIC:
            return torch_format.load_legacy(raw, path), {}
    except torch_format.TorchFormatError as e:
        raise CheckpointError(str(e)) from None
    try:
        arrays, meta, buffer, entries = deserialize(raw, where=f"load: {path}")
    except SafetensorsError as e:
        raise CheckpointError(f"{e} (chainrule reads safetensors files and PyTorch's .pt/.pth "
                              f"checkpoints)") from None
    _check_format_version(path, meta)
    if "sha256" in meta and _digest(entries, meta, buffer) != meta["sha256"]:
        raise CheckpointError(f"load: {path} is damaged: its data does not match the checksum "
                              f"stored when it was saved")
    if "skeleton" not in meta:
        return {k: make_tensor(v) for k, v in arrays.items()}, meta
    try:
        obj = _decode(json.loads(meta["skeleton"]), arrays)
    except (ValueError, KeyError, TypeError) as e:
        raise CheckpointError(f"load: {path} is damaged: its object description cannot be "
                              f"read ({e})") from None
    return obj, meta
