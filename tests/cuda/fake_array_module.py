"""A stand-in for CuPy that runs on the CPU and refuses what CuPy refuses.

``FakeDeviceArray`` wraps a NumPy array in a distinct type. NumPy's functions and ufuncs reach
it through the same protocols that hand them to CuPy (NEP 18 ``__array_function__``, NEP 13
``__array_ufunc__``); it unwraps its own arrays, computes with NumPy and wraps the result. Like
a CuPy array it refuses to mix with NumPy arrays, Python lists in ufuncs, and implicit host
conversion (``np.asarray(x)``, ``np.array(x)``, ``__array__``), has no ``__array_interface__``
(so NumPy's ``as_strided`` fails on it) and no ``flags.writeable``, and reductions give 0-d
arrays rather than scalars. ``fake_cupy`` is its module, with CuPy's spellings:
``asarray`` (host -> device), ``asnumpy`` (device -> host), ``cuda.Device``,
``random.default_rng`` (a Generator with CuPy's methods only), ``lib.stride_tricks``.

So an op that reaches for NumPy where its arrays belong to another library fails here as it
would on a GPU: this keeps the CUDA path from rotting on machines without one.
``host_syncs`` counts the calls that would wait for the GPU (``item``, ``float(x)``, ...).
"""
import types

import numpy as np
from numpy.lib.mixins import NDArrayOperatorsMixin

_REFUSED = ("Implicit conversion to a NumPy array is not allowed. Please use `.get()` to "
            "construct a NumPy array explicitly.")

host_syncs = {"count": 0}


def _unwrap(x, where):
    """``x`` with every FakeDeviceArray replaced by its NumPy array; a NumPy array raises."""
    t = type(x)
    if t is FakeDeviceArray:
        return x._a
    if t is np.ndarray:
        raise TypeError(f"Unsupported type {t} in {where}: a NumPy (host) array mixed with "
                        f"device arrays (CuPy refuses this)")
    if t is list or t is tuple:
        return t(_unwrap(v, where) for v in x)
    if t is dict:
        return {k: _unwrap(v, where) for k, v in x.items()}
    return x


def _wrap(x):
    t = type(x)
    if t is np.ndarray:
        return FakeDeviceArray(x)
    if isinstance(x, np.generic) and not isinstance(x, np.dtype):
        return FakeDeviceArray(np.asarray(x))     # CuPy reductions return 0-d arrays
    if t is tuple or t is list:
        return t(_wrap(v) for v in x)
    return x


class _Device:
    id = 0

    def __repr__(self):
        return "<CUDA Device 0 (fake)>"


_DEVICE = _Device()


class _Flags:
    """CuPy's flags: no ``writeable``."""

    def __init__(self, a):
        self.c_contiguous = a.flags.c_contiguous
        self.f_contiguous = a.flags.f_contiguous
        self.owndata = a.flags.owndata


class FakeDeviceArray(NDArrayOperatorsMixin):
    """A NumPy array held as if on a GPU (see the module docstring)."""

    __slots__ = ("_a",)

    def __init__(self, a):
        self._a = a

    # -- the protocols NumPy dispatches through ------------------------------------------------
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        operands = inputs[:1] + inputs[2:] if method == "at" else inputs   # at's index: a tuple
        for x in operands:
            if type(x) in (list, tuple):
                raise TypeError(f"Unsupported type {type(x)} in ufunc {ufunc.__name__}")
        args = _unwrap(inputs, f"ufunc {ufunc.__name__}")
        out = kwargs.get("out")
        kwargs = _unwrap(kwargs, f"ufunc {ufunc.__name__}")
        result = getattr(ufunc, method)(*args, **kwargs)
        if out is not None:
            return out[0] if type(out) is tuple and len(out) == 1 else out
        return _wrap(result)

    def __array_function__(self, func, types, args, kwargs):
        name = func.__name__
        out = kwargs.get("out")
        result = func(*_unwrap(args, name), **_unwrap(kwargs, name))
        if out is not None:
            return out
        return _wrap(result)

    def __array__(self, dtype=None, copy=None):
        raise TypeError(_REFUSED)

    # -- what CuPy arrays have ----------------------------------------------------------------
    shape = property(lambda self: self._a.shape)
    dtype = property(lambda self: self._a.dtype)
    ndim = property(lambda self: self._a.ndim)
    size = property(lambda self: self._a.size)
    strides = property(lambda self: self._a.strides)
    itemsize = property(lambda self: self._a.itemsize)
    nbytes = property(lambda self: self._a.nbytes)
    T = property(lambda self: FakeDeviceArray(self._a.T))
    mT = property(lambda self: FakeDeviceArray(self._a.mT))
    real = property(lambda self: FakeDeviceArray(self._a.real))
    imag = property(lambda self: FakeDeviceArray(self._a.imag))
    flags = property(lambda self: _Flags(self._a))
    device = property(lambda self: _DEVICE)

    @property
    def base(self):
        return None if self._a.base is None else FakeDeviceArray(self._a.base)

    def get(self):
        host_syncs["count"] += 1
        return self._a.copy()

    def item(self):
        host_syncs["count"] += 1
        return self._a.item()

    def tolist(self):
        host_syncs["count"] += 1
        return self._a.tolist()

    def __float__(self):
        host_syncs["count"] += 1
        return float(self._a)

    def __int__(self):
        host_syncs["count"] += 1
        return int(self._a)

    def __complex__(self):
        host_syncs["count"] += 1
        return complex(self._a)

    def __bool__(self):
        host_syncs["count"] += 1
        return bool(self._a)

    def __len__(self):
        return len(self._a)

    def __iter__(self):
        return (FakeDeviceArray(np.asarray(v)) for v in self._a)

    def __getitem__(self, key):
        return _wrap(self._a[_unwrap(key, "indexing")])

    def __setitem__(self, key, value):
        self._a[_unwrap(key, "indexing")] = _unwrap(value, "assignment")

    def __repr__(self):
        return f"fake_device_array({np.array2string(self._a)}, dtype={self._a.dtype})"

    def __getattr__(self, name):
        # the ndarray methods (reshape, astype, sum, transpose, fill ...), on the device
        attr = getattr(self._a, name)
        if not callable(attr):
            raise AttributeError(f"FakeDeviceArray has no attribute {name!r}")

        def method(*args, **kwargs):
            out = kwargs.get("out")
            result = attr(*_unwrap(args, name), **_unwrap(kwargs, name))
            return out if out is not None else _wrap(result)
        return method

    def __reduce__(self):
        raise TypeError("FakeDeviceArray: pickling a device array is not supported here")


# -- the module ------------------------------------------------------------------------------
def asarray(a, dtype=None, order=None):
    """Onto the device: a copy of a NumPy array, the array itself when already there."""
    if type(a) is FakeDeviceArray:
        return a if dtype is None or a.dtype == dtype else a.astype(dtype)
    return FakeDeviceArray(np.array(_unwrap(a, "asarray") if type(a) is not np.ndarray else a,
                                    dtype=dtype, order=order or "K"))


def array(a, dtype=None, copy=True, order="K", ndmin=0):
    if type(a) is FakeDeviceArray:
        a = a._a
    return FakeDeviceArray(np.array(a, dtype=dtype, copy=copy, order=order, ndmin=ndmin))


def asnumpy(a):
    if type(a) is FakeDeviceArray:
        return a.get()
    return np.asarray(a)


def _creation(fn):
    def make(*args, **kwargs):
        return FakeDeviceArray(np.asarray(fn(*_unwrap(args, fn.__name__),
                                              **_unwrap(kwargs, fn.__name__))))
    make.__name__ = fn.__name__
    return make


class _Generator:
    """CuPy's ``Generator`` methods only (it has no ``normal``, ``permutation``, ``choice``)."""

    def __init__(self, seed):
        self._g = np.random.Generator(np.random.PCG64(seed))

    def random(self, size=None, dtype=np.float64, out=None):
        return FakeDeviceArray(np.asarray(self._g.random(size, dtype=dtype)))

    def standard_normal(self, size=None, dtype=np.float64, out=None):
        return FakeDeviceArray(np.asarray(self._g.standard_normal(size, dtype=dtype)))

    def uniform(self, low=0.0, high=1.0, size=None, dtype=np.float64):
        return FakeDeviceArray(np.asarray(self._g.uniform(low, high, size).astype(dtype)))

    def integers(self, low, high=None, size=None, dtype=np.int64, endpoint=False):
        return FakeDeviceArray(np.asarray(self._g.integers(low, high, size, dtype, endpoint)))


class _DeviceContext:
    def __init__(self, index=0):
        if index not in (None, 0):
            raise RuntimeError(f"fake device: only device 0 exists, got {index}")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def synchronize(self):
        """Nothing is queued on the CPU; CuPy's waits for the device here."""


class _FakeCupy(types.ModuleType):
    """Creation functions make device arrays; everything else is NumPy's, which dispatches."""

    def __getattr__(self, name):
        return getattr(np, name)


fake_cupy = _FakeCupy("fake_cupy")
fake_cupy.ndarray = FakeDeviceArray
fake_cupy.asarray = asarray
fake_cupy.ascontiguousarray = lambda a, dtype=None: asarray(
    a, dtype) if type(a) is not FakeDeviceArray else FakeDeviceArray(
    np.ascontiguousarray(a._a, dtype=dtype))
fake_cupy.array = array
fake_cupy.asnumpy = asnumpy
for _name in ("zeros", "ones", "empty", "full", "arange", "eye", "identity", "linspace",
              "logspace", "tri", "indices"):
    setattr(fake_cupy, _name, _creation(getattr(np, _name)))
class _OGrid:
    def __getitem__(self, key):
        return _wrap(list(np.ogrid[key]))


fake_cupy.ogrid = _OGrid()
fake_cupy.random = types.SimpleNamespace(default_rng=_Generator)
fake_cupy.cuda = types.SimpleNamespace(
    Device=_DeviceContext,
    runtime=types.SimpleNamespace(getDeviceCount=lambda: 1, getDevice=lambda: 0))
fake_cupy.lib = types.SimpleNamespace(stride_tricks=types.SimpleNamespace(
    as_strided=lambda x, shape=None, strides=None: FakeDeviceArray(
        np.lib.stride_tricks.as_strided(x._a, shape, strides)),
    sliding_window_view=lambda x, *a, **k: FakeDeviceArray(
        np.lib.stride_tricks.sliding_window_view(x._a, *a, **k))))
