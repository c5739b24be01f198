"""PyTorch's checkpoint files (``torch.save``'s zip format), read and written without torch.

Layout of a file ``x.pt`` (a zip archive, entries stored uncompressed, under one folder ``x/``):
``data.pkl`` (a protocol-2 pickle of the object), ``data/<key>`` (the raw little-endian bytes of
each storage), ``byteorder`` ("little"), ``version`` ("3") and ``.format_version``. Inside the
pickle a tensor is ``torch._utils._rebuild_tensor_v2(storage, offset, size, stride,
requires_grad, hooks)``, and each storage a persistent id ``("storage", torch.FloatStorage, key,
location, numel)``; several tensors viewing one storage name the same key.

Reading never runs code: the unpickler resolves only the globals in ``ALLOWED`` (PyTorch's
``weights_only=True`` set for plain tensors and containers) and refuses any other by name. The
objects those names stand for are ours: a tensor is built with NumPy over the storage's bytes.
"""
import collections
import io
import pickle
import zipfile

import numpy as np

from ..autograd.tensor_base import make_tensor
from ..nn.parameter import Parameter
from ..size import Size
from ..tensor import Tensor

ZIP_MAGIC = b"PK\x03\x04"
# torch's legacy (pre-1.6) files begin with this pickled magic number
LEGACY_MAGIC = b"\x80\x02\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"

STORAGE_DTYPES = {"FloatStorage": "<f4", "DoubleStorage": "<f8", "HalfStorage": "<f2",
                  "LongStorage": "<i8", "IntStorage": "<i4", "ShortStorage": "<i2",
                  "CharStorage": "i1", "ByteStorage": "u1", "BoolStorage": "?"}
_STORAGE_FOR = {np.dtype(v): k for k, v in STORAGE_DTYPES.items()}
UNSUPPORTED_STORAGES = ("BFloat16Storage", "ComplexFloatStorage", "ComplexDoubleStorage",
                        "QInt8Storage", "QUInt8Storage", "QInt32Storage", "Float8_e4m3fnStorage",
                        "Float8_e5m2Storage", "UInt16Storage", "UInt32Storage", "UInt64Storage")


class TorchFormatError(ValueError):
    """A PyTorch checkpoint that cannot be read: damaged, truncated or naming a forbidden global."""


# -- reading -------------------------------------------------------------------------------------
class _StorageType:
    """What ``torch.FloatStorage`` etc. unpickle to: the dtype of the storage's elements."""

    def __init__(self, name):
        self.name = name
        self.dtype = np.dtype(STORAGE_DTYPES[name]) if name in STORAGE_DTYPES else None


def _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad=False,
                       backward_hooks=None, metadata=None):
    data, key = storage
    size, stride = tuple(size), tuple(stride)
    if len(size) != len(stride) or any(s < 0 for s in size) or any(s < 0 for s in stride) \
            or storage_offset < 0:
        raise TorchFormatError(f"tensor on storage {key!r}: size {size}, stride {stride} and "
                               f"offset {storage_offset} do not describe a tensor")
    last = storage_offset + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) else -1
    if last >= data.size:
        raise TorchFormatError(f"tensor of size {size} (stride {stride}, offset {storage_offset}) "
                               f"needs {last + 1} elements but its storage {key!r} holds "
                               f"{data.size}: the file is damaged")
    item = data.itemsize
    view = np.lib.stride_tricks.as_strided(data[storage_offset:] if data.size else data, size,
                                           tuple(s * item for s in stride))
    t = make_tensor(view)
    t.requires_grad = bool(requires_grad) and view.dtype.kind == "f"
    return t


def _rebuild_parameter(data, requires_grad, backward_hooks, *state):
    return Parameter(data, requires_grad=bool(requires_grad))


def _size(dims=()):
    return Size(dims)


def _ordered_dict(*args):
    return collections.OrderedDict(*args)


ALLOWED = {
    ("collections", "OrderedDict"): _ordered_dict,
    ("torch._utils", "_rebuild_tensor_v2"): _rebuild_tensor_v2,
    ("torch._utils", "_rebuild_parameter"): _rebuild_parameter,
    ("torch._utils", "_rebuild_parameter_with_state"): _rebuild_parameter,
    ("torch", "Size"): _size,
}


class _RestrictedUnpickler(pickle.Unpickler):
    def __init__(self, file, read_record, where):
        super().__init__(file)
        self.read_record = read_record
        self.where = where
        self.storages = {}

    def find_class(self, module, name):
        if (module, name) in ALLOWED:
            return ALLOWED[(module, name)]
        if module == "torch" and name.endswith("Storage"):
            return _StorageType(name)
        raise TorchFormatError(f"load: {self.where} names the global {module}.{name}, which is "
                               f"not allowed: chainrule loads only tensors, containers, numbers "
                               f"and strings, and never runs code from a file")

    def persistent_load(self, pid):
        if not (isinstance(pid, tuple) and len(pid) == 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType)):
            raise TorchFormatError(f"load: {self.where} has an unknown persistent id {pid!r}")
        _, kind, key, _location, numel = pid
        if kind.dtype is None:
            raise TorchFormatError(f"load: {self.where} holds a torch.{kind.name}, a dtype "
                                   f"chainrule does not have (it has "
                                   f"{', '.join(STORAGE_DTYPES)})")
        if key not in self.storages:
            raw = self.read_record(f"data/{key}")
            need = int(numel) * kind.dtype.itemsize
            if len(raw) < need:
                raise TorchFormatError(f"load: {self.where}: storage {key!r} has {len(raw)} bytes "
                                       f"but its {numel} {kind.name[:-7].lower()} elements need "
                                       f"{need}: the file is truncated or damaged")
            self.storages[key] = np.frombuffer(raw, dtype=kind.dtype, count=int(numel)).copy()
        return self.storages[key], key


def _unpickle(data, read_record, where):
    return _load_naming_damage(_RestrictedUnpickler(io.BytesIO(data), read_record, where), where)


def _load_naming_damage(unpickler, where):
    """``unpickler.load()``, every failure raised as a TorchFormatError naming the file."""
    try:
        return unpickler.load()
    except TorchFormatError as e:
        if str(e).startswith("load:"):
            raise
        raise TorchFormatError(f"load: {where}: {e}") from None
    except (pickle.UnpicklingError, EOFError, AttributeError, TypeError, ValueError,
            IndexError, KeyError) as e:
        raise TorchFormatError(f"load: {where}: its pickle is damaged ({type(e).__name__}: "
                               f"{e})") from None


def load_zip(raw, where):
    """The object in the bytes of a ``torch.save`` zip file."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
        names = archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError) as e:
        raise TorchFormatError(f"load: {where} is not a readable PyTorch checkpoint: the zip "
                               f"archive is damaged or truncated ({e})") from None
    pickles = [n for n in names if n.endswith("data.pkl") and n.count("/") == 1]
    if not pickles:
        raise TorchFormatError(f"load: {where} is a zip archive without a data.pkl: not a "
                               f"PyTorch checkpoint")
    prefix = pickles[0][:-len("data.pkl")]
    byteorder = prefix + "byteorder"
    if byteorder in names and archive.read(byteorder).strip() not in (b"little", b""):
        raise TorchFormatError(f"load: {where} was written on a big-endian machine; chainrule "
                               f"reads little-endian checkpoints only")

    def read_record(name):
        try:
            return archive.read(prefix + name)
        except KeyError:
            raise TorchFormatError(f"load: {where} has no record {name!r}: the file is "
                                   f"damaged") from None
        except (zipfile.BadZipFile, OSError, EOFError) as e:
            raise TorchFormatError(f"load: {where}: record {name!r} cannot be read ({e}): the "
                                   f"file is truncated or damaged") from None

    return _unpickle(read_record("data.pkl"), read_record, where)


def load_legacy(raw, where):
    """The object in a pre-1.6 ``torch.save`` file: magic, protocol, sys info, the object's
    pickle, the storage keys, then each storage as a little-endian u64 count and its bytes."""
    stream = io.BytesIO(raw)
    header = []
    for _ in range(3):
        header.append(_unpickle_stream(stream, {}, where))
    if header[1] != 1001:
        raise TorchFormatError(f"load: {where}: legacy protocol {header[1]!r} is not supported")
    pending = {}
    # First pass: the object, with storages recorded (by key) to be filled in afterwards.
    obj = _unpickle_stream(stream, pending, where)
    keys = _unpickle_stream(stream, {}, where)
    for key in keys:
        if key not in pending:
            raise TorchFormatError(f"load: {where}: storage {key!r} is not used by the object")
        numel = int.from_bytes(_read_exact(stream, 8, where), "little")
        data = pending[key]
        need = numel * data.itemsize
        if numel != data.size:
            raise TorchFormatError(f"load: {where}: storage {key!r} says {numel} elements, its "
                                   f"tensors were built for {data.size}")
        data[...] = np.frombuffer(_read_exact(stream, need, where), dtype=data.dtype)
    return obj


def _read_exact(stream, n, where):
    chunk = stream.read(n)
    if len(chunk) != n:
        raise TorchFormatError(f"load: {where}: the file ends early (truncated)")
    return chunk


class _LegacyUnpickler(_RestrictedUnpickler):
    def persistent_load(self, pid):
        # ("storage", storage_type, key, location, numel, view_metadata)
        if not (isinstance(pid, tuple) and len(pid) >= 5 and pid[0] == "storage"
                and isinstance(pid[1], _StorageType) and pid[1].dtype is not None):
            raise TorchFormatError(f"load: {self.where} has an unsupported persistent id {pid!r}")
        _, kind, key, _location, numel = pid[:5]
        if key not in self.storages:
            self.storages[key] = np.zeros(int(numel), dtype=kind.dtype)
        return self.storages[key], key


def _unpickle_stream(stream, storages, where):
    unpickler = _LegacyUnpickler(stream, None, where)
    unpickler.storages = storages
    return _load_naming_damage(unpickler, where)


# -- writing -------------------------------------------------------------------------------------
class _Global:
    """Pickles as the global ``module.name`` without importing it (torch is not needed)."""

    def __init__(self, module, name):
        self.module, self.name = module, name

    def __call__(self, *args):   # pickle's reduce requires a callable; this one only names
        raise TypeError(f"{self.module}.{self.name} is a name for pickling, not a function")


class _Storage:
    def __init__(self, key, array):
        self.key, self.array = key, array


class _Pickler(pickle._Pickler):
    dispatch = pickle._Pickler.dispatch.copy()

    def __init__(self, file):
        super().__init__(file, protocol=2)
        self.storages = {}      # id(root array) -> _Storage

    def save_torch_global(self, obj):
        self.write(pickle.GLOBAL + f"{obj.module}\n{obj.name}\n".encode("utf-8"))
        self.memoize(obj)

    dispatch[_Global] = save_torch_global

    def persistent_id(self, obj):
        if isinstance(obj, _Storage):
            kind = _STORAGE_FOR[obj.array.dtype]
            return ("storage", _global("torch", kind), obj.key, "cpu", obj.array.size)
        return None

    def reducer_override(self, obj):
        if isinstance(obj, Tensor):
            return self.reduce_tensor(obj)
        return NotImplemented

    def reduce_tensor(self, t):
        arr = t.array
        dtype = arr.dtype.newbyteorder("<") if arr.dtype.byteorder == ">" else arr.dtype
        if dtype not in _STORAGE_FOR:
            raise TypeError(f"save: a tensor of dtype {arr.dtype} cannot go into a PyTorch "
                            f"checkpoint")
        storage, offset, strides = self.storage_for(arr)
        return (_global("torch._utils", "_rebuild_tensor_v2"),
                (storage, offset, tuple(arr.shape), strides, False, collections.OrderedDict()))

    def storage_for(self, arr):
        """(storage, element offset, element strides): a view of an array already stored shares
        that array's storage, as tied weights do in PyTorch's files."""
        root = arr
        while isinstance(root.base, np.ndarray):
            root = root.base
        item = arr.itemsize
        shared = (root is not arr and root.dtype == arr.dtype and root.flags.c_contiguous
                  and all(s >= 0 and s % item == 0 for s in arr.strides))
        if shared:
            start = arr.__array_interface__["data"][0] - root.__array_interface__["data"][0]
            if start % item:
                shared = False
        if not shared:
            if arr.flags.c_contiguous and id(arr) in self.storages:
                return self.storages[id(arr)], 0, _contiguous_strides(arr.shape)
            root, start = np.ascontiguousarray(arr), 0
            key = id(arr)
        else:
            key = id(root)
        if key not in self.storages:
            flat = np.ascontiguousarray(root).reshape(-1).astype(arr.dtype.newbyteorder("<"),
                                                                 copy=False)
            self.storages[key] = _Storage(str(len(self.storages)), flat)
            self.storages[key]._keep = root   # keeps id(root) from being reused while pickling
        strides = (tuple(s // item for s in arr.strides) if shared
                   else _contiguous_strides(arr.shape))
        return self.storages[key], start // item, strides


def _contiguous_strides(shape):
    strides, step = [], 1
    for n in reversed(shape):
        strides.append(step)
        step *= max(n, 1)
    return tuple(reversed(strides))


_GLOBALS = {}


def _global(module, name):
    key = (module, name)
    if key not in _GLOBALS:
        _GLOBALS[key] = _Global(module, name)
    return _GLOBALS[key]


def _plain(obj, where="the top level"):
    """Check ``obj`` holds only what ``torch.load(weights_only=True)`` reads; NumPy scalars
    become Python numbers and chainrule's Size a tuple."""
    if isinstance(obj, Tensor) or obj is None or isinstance(obj, (bool, int, float, str)):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, collections.OrderedDict):
        return collections.OrderedDict((_plain(k, where), _plain(v, f"{where}[{k!r}]"))
                                       for k, v in obj.items())
    if isinstance(obj, dict):
        return {_plain(k, where): _plain(v, f"{where}[{k!r}]") for k, v in obj.items()}
    if isinstance(obj, tuple):
        return tuple(_plain(v, f"{where}[{i}]") for i, v in enumerate(obj))
    if isinstance(obj, list):
        return [_plain(v, f"{where}[{i}]") for i, v in enumerate(obj)]
    raise TypeError(f"save: cannot store an object of type {type(obj).__name__} at {where} in a "
                    f"PyTorch checkpoint; it takes dicts, lists, tuples, numbers, strings, None "
                    f"and tensors")


def serialize(obj, archive_name="archive"):
    """The bytes of a ``torch.save`` zip file holding ``obj``."""
    obj = _plain(obj)
    buf = io.BytesIO()
    pickler = _Pickler(buf)
    pickler.dump(obj)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as z:
        def put(name, data):
            info = zipfile.ZipInfo(f"{archive_name}/{name}", date_time=(1980, 1, 1, 0, 0, 0))
            # torch aligns every record's data to 64 bytes (so it can be mmap'ed): pad the local
            # header's extra field, as its writer does
            header_len = 30 + len(info.filename.encode("utf-8"))
            pad = -(out.tell() + header_len + 4) % 64
            info.extra = b"FB" + (pad).to_bytes(2, "little") + b"Z" * pad
            z.writestr(info, data)
        put("data.pkl", buf.getvalue())
        put(".format_version", b"1")
        put(".storage_alignment", b"64")
        put("byteorder", b"little")
        for storage in pickler.storages.values():
            put(f"data/{storage.key}", storage.array.tobytes())
        put("version", b"3\n")
    return out.getvalue()
