"""``cr.backends.onednn``: oneDNN, Intel's library of fused deep-learning primitives, where the
``onednn`` extra is installed (``pip install "chainrule[onednn]"``, the ``onednn-cpu-gomp``
wheel; Linux x86-64).

chainrule uses two of its primitives. The LSTM layer, forward and backward, which PyTorch's
CPU wheel also runs through oneDNN (its profiler names ``aten::mkldnn_rnn_layer``): its
kernels fuse each step's gate arithmetic into the step's product, which NumPy's passes cannot
(``ops/lstm_onednn.py``). And the matrix product of a large float32 Linear's forward, whose
bias it adds inside the product (``kernels/onednn_matmul.py``). This module loads the library and
declares the few calls of its C API that they need. ``cr.backends.mkldnn`` is this module
under PyTorch's name; ``enabled = False`` (or ``CHAINRULE_ONEDNN=0`` before the first use)
turns it off.
"""
import collections
import ctypes
import glob
import os
import sys
import threading
from importlib import metadata

_lib = None        # the loaded libdnnl, False when unavailable, None before the first try
engine = stream = None
enabled = True     # torch.backends.mkldnn.enabled: False keeps every LSTM and Linear off it
_threads = None    # cr.set_num_threads's count, applied when the library loads

# the C API's constants (oneDNN 3.x, include/oneapi/dnnl/dnnl_types.h)
F32 = 3
ANY, TNC, LDNC, LDGOI, LDGO = 1, 4, 5, 31, 5
FORWARD_TRAINING, FORWARD_INFERENCE, BACKWARD = 64, 96, 128
LEFT2RIGHT, RIGHT2LEFT = 1, 2
DIFF_WEIGHTS_OVERWRITE = 1
QUERY_WORKSPACE_MD, QUERY_EXEC_ARG_MD = 135, 255
ARG = dict(src=1, dst=17, weights=33, src_layer=1, src_iter=2, src_iter_c=3, dst_layer=17,
           dst_iter=18, dst_iter_c=19, weights_layer=33, weights_iter=34, bias=41, workspace=64,
           from_=1, to=17)
for _name in ("src_layer", "src_iter", "src_iter_c", "dst_layer", "dst_iter", "dst_iter_c"):
    ARG["diff_" + _name] = ARG[_name] + 128
for _name in ("weights_layer", "weights_iter", "bias"):
    ARG["diff_" + _name] = ARG[_name] + 128

Dims = ctypes.c_int64 * 12


class ExecArg(ctypes.Structure):
    _fields_ = [("arg", ctypes.c_int), ("memory", ctypes.c_void_p)]


class OneDNNError(RuntimeError):
    """A oneDNN call that returned an error status."""


def _candidates():
    for name in ("onednn-cpu-gomp", "onednn"):
        try:
            files = metadata.distribution(name).files or ()
        except metadata.PackageNotFoundError:
            continue
        for f in files:
            if os.path.basename(str(f)).startswith("libdnnl.so"):
                yield os.path.normpath(str(f.locate()))
    yield from sorted(glob.glob(os.path.join(sys.prefix, "lib", "libdnnl.so*")))


def _declare(lib):
    p, i, u = ctypes.c_void_p, ctypes.c_int, ctypes.c_uint
    pp = ctypes.POINTER(ctypes.c_void_p)
    lstm = [pp, p, i, i] + [p] * 11 + [u, p]
    signatures = {
        "dnnl_engine_create": [pp, i, ctypes.c_size_t],
        "dnnl_stream_create": [pp, p, u],
        "dnnl_stream_wait": [p],
        "dnnl_memory_desc_create_with_tag": [pp, i, Dims, i, i],
        "dnnl_memory_desc_create_with_strides": [pp, i, Dims, i, Dims],
        "dnnl_memory_desc_destroy": [p],
        "dnnl_memory_desc_get_size": [p],
        "dnnl_memory_desc_equal": [p, p],
        "dnnl_memory_create": [pp, p, p, p],
        "dnnl_memory_set_data_handle": [p, p],
        "dnnl_memory_destroy": [p],
        "dnnl_primitive_desc_query_md": [p, i, i],
        "dnnl_primitive_desc_destroy": [p],
        "dnnl_primitive_create": [pp, p],
        "dnnl_primitive_execute": [p, p, i, ctypes.POINTER(ExecArg)],
        "dnnl_primitive_destroy": [p],
        "dnnl_reorder_primitive_desc_create": [pp, p, p, p, p, p],
        "dnnl_lstm_forward_primitive_desc_create": lstm,
        "dnnl_lstm_backward_primitive_desc_create": [pp, p, i, i] + [p] * 22 + [u, p, p],
        "dnnl_matmul_primitive_desc_create": [pp, p, p, p, p, p, p],
    }
    for name, argtypes in signatures.items():
        fn = getattr(lib, name)
        fn.argtypes = argtypes
        fn.restype = {"dnnl_memory_desc_get_size": ctypes.c_size_t,
                      "dnnl_memory_desc_equal": i,
                      "dnnl_primitive_desc_query_md": p}.get(name, i)


def _load():
    global _lib, engine, stream
    _lib = False
    if os.environ.get("CHAINRULE_ONEDNN", "1").strip().lower() in ("0", "off", "no", "false"):
        return
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path)
            _declare(lib)
        except (OSError, AttributeError):
            continue
        e, s = ctypes.c_void_p(), ctypes.c_void_p()
        if lib.dnnl_engine_create(ctypes.byref(e), 1, 0) or \
                lib.dnnl_stream_create(ctypes.byref(s), e, 1):
            continue
        _lib, engine, stream = lib, e, s
        if _threads:
            _apply_threads()
        return


def set_num_threads(n):
    """Run oneDNN's primitives on ``n`` threads (``cr.set_num_threads`` calls this): its
    threads are GNU OpenMP's, sized by ``omp_set_num_threads`` for the calling thread; recorded
    for later if the library has not loaded, so that setting it loads nothing."""
    global _threads
    _threads = int(n)
    if _lib:
        _apply_threads()


def get_num_threads():
    """The threads oneDNN runs on from this thread, or None where it has not loaded."""
    gomp = _openmp() if _lib else None
    return gomp.omp_get_max_threads() if gomp else None


def _openmp():
    try:
        return ctypes.CDLL("libgomp.so.1")
    except OSError:
        return None


def _apply_threads():
    gomp = _openmp()
    if gomp:
        gomp.omp_set_num_threads(_threads)


def _off_in_child():
    # GNU OpenMP's threads do not survive a fork (kernels/parallel.py): a child of a process
    # that loaded oneDNN runs its LSTMs on the NumPy path rather than risk a hung team
    global _lib
    if _lib:
        _lib = False


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_off_in_child)


def library():
    """The loaded libdnnl (ctypes), or None where oneDNN is not installed or switched off."""
    if _lib is None:
        _load()
    return _lib or None


def is_available():
    """True when oneDNN is installed and loads (chainrule's float32 LSTM layers and large
    float32 Linear forwards then run on it while ``enabled``)."""
    return library() is not None


def check(status, what):
    if status:
        raise OneDNNError(f"oneDNN: {what} failed (status {status})")


def memory_desc(dims, tag, dtype=F32):
    """A new memory descriptor (the caller keeps it alive, ``release`` frees it)."""
    md = ctypes.c_void_p()
    check(_lib.dnnl_memory_desc_create_with_tag(ctypes.byref(md), len(dims), Dims(*dims),
                                                dtype, tag), f"memory descriptor {dims}")
    return md


def strided_desc(dims, strides, dtype=F32):
    """A new memory descriptor of ``dims`` laid out with ``strides`` (in elements)."""
    md = ctypes.c_void_p()
    check(_lib.dnnl_memory_desc_create_with_strides(ctypes.byref(md), len(dims), Dims(*dims),
                                                    dtype, Dims(*strides)),
          f"memory descriptor {dims} strides {strides}")
    return md


def memory(md):
    """A memory object of descriptor ``md`` whose data handle is set per call."""
    mem = ctypes.c_void_p()
    check(_lib.dnnl_memory_create(ctypes.byref(mem), md, engine, None), "memory")
    return mem


def primitive(pd):
    prim = ctypes.c_void_p()
    check(_lib.dnnl_primitive_create(ctypes.byref(prim), pd), "primitive")
    return prim


def reorder(src_md, dst_md):
    """A reorder primitive from ``src_md``'s layout to ``dst_md``'s, or None when they agree."""
    if _lib.dnnl_memory_desc_equal(src_md, dst_md):
        return None
    pd = ctypes.c_void_p()
    check(_lib.dnnl_reorder_primitive_desc_create(ctypes.byref(pd), src_md, engine, dst_md,
                                                  engine, None), "reorder")
    prim = primitive(pd)
    _lib.dnnl_primitive_desc_destroy(pd)
    return prim


def query_md(pd, arg):
    return _lib.dnnl_primitive_desc_query_md(pd, QUERY_EXEC_ARG_MD, arg)


def execute(prim, pairs):
    """Run ``prim`` on [(argument id, memory object)] and wait for it."""
    args = (ExecArg * len(pairs))(*[ExecArg(a, m.value if hasattr(m, "value") else m)
                                    for a, m in pairs])
    check(_lib.dnnl_primitive_execute(prim, stream, len(pairs), args), "execute")
    check(_lib.dnnl_stream_wait(stream), "stream wait")


def set_handle(mem, address):
    check(_lib.dnnl_memory_set_data_handle(mem, address), "set data handle")


class Plans(collections.OrderedDict):
    """Primitives made once per shape, ``make(*key)``, the ``limit`` most recently used kept
    (an evicted plan frees its C objects when nothing else holds it). ``lock`` is held around a
    plan's use: its memory objects get each call's addresses."""

    def __init__(self, make, limit):
        super().__init__()
        self.make, self.limit, self.lock = make, limit, threading.Lock()

    def plan(self, key):
        """The plan for ``key`` (made now if it is new), as the newest; call under ``lock``."""
        plan = self.get(key)
        if plan is None:
            plan = self[key] = self.make(*key)
            while len(self) > self.limit:
                self.popitem(last=False)
        else:
            self.move_to_end(key)
        return plan
