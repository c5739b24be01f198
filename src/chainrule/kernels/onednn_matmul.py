"""``Linear``'s forward on oneDNN's matmul primitive (``backends/onednn.py``): y = x W^T + b in
one library call.

The formula is ``LinearReference``'s; what oneDNN adds is the epilogue: the bias is added to
each tile of the product while it is still in cache, where the product on MKL is followed by a
pass over the whole output. PyTorch's CPU wheel adds its bias as MKL does (a broadcast copy,
then the product accumulated onto it). oneDNN's ReLU "post-op" would fuse a following ReLU the
same way, but it turns NaN into 0 where ``relu`` passes NaN through, so a ReLU stays a pass of
its own (``ops.linear.linear_relu`` makes it in place).

Only the forward of a large enough float32 product runs here (``MIN_MULTIPLY_ADDS``, MKL's
threshold too: below it the call's fixed cost, about 6 us of ctypes calls, outweighs the
saving), and only where no gradient will follow (inference: W6 at batch 1024, 1.02 -> 0.95):
in training the backward's products run on MKL, and moving the forward's to oneDNN's thread
pool and back measured 1 % slower on W3. The results agree with MKL's to float32 rounding (a
different blocking of the same sums), repeatably for one thread count.

Layouts: x is read through its strides as it is (rows or columns), W (out, in) as the
transposed (in, out) operand through its strides, and y is a new C-contiguous array.
"""
import ctypes

import numpy as np

from ..backends import onednn as dnn
from ..backends.reference import is_reference_enabled
from . import blas

MIN_MULTIPLY_ADDS = blas.MIN_MULTIPLY_ADDS


def applies(x2, weight, bias):
    """Whether ``x2 @ weight.T (+ bias)`` can run on oneDNN: float32 host arrays, a 2-d x,
    ``MIN_MULTIPLY_ADDS`` multiply-adds or more, strides that are whole positive elements."""
    # the size first: every Linear call asks, and a small one should learn it soonest
    return (x2.ndim == 2 and x2.shape[0] * weight.size >= MIN_MULTIPLY_ADDS
            and type(x2) is np.ndarray and type(weight) is np.ndarray
            and x2.dtype == np.float32 and weight.dtype == np.float32
            and (bias is None or type(bias) is np.ndarray and bias.dtype == np.float32
                 and bias.ndim == 1)
            and _element_strides(x2) is not None and _element_strides(weight) is not None
            and dnn.enabled and not is_reference_enabled() and dnn.is_available())


def _element_strides(a):
    """A 2-d ``a``'s (row, column) strides in elements, or None where one is not a positive
    whole element. A stride along a length-1 axis is never followed: it is given as the C
    layout's."""
    size = a.itemsize
    (rows, cols), (rs, cs) = a.shape, a.strides
    cs = size if cols == 1 else cs
    rs = cols * cs if rows == 1 else rs
    if rs <= 0 or cs <= 0 or rs % size or cs % size:
        return None
    return rs // size, cs // size


class _Plan:
    """The matmul primitive of one shape and layout, with its memory objects and argument
    list made once; a call sets the arrays' addresses and runs it."""

    def __init__(self, M, K, N, x_strides, w_strides, has_bias):
        lib = dnn.library()
        ws_out, ws_in = w_strides
        self.mds = [dnn.strided_desc((M, K), x_strides),
                    dnn.strided_desc((K, N), (ws_in, ws_out)),     # W^T, through W's strides
                    dnn.strided_desc((M, N), (N, 1))]
        if has_bias:
            self.mds.append(dnn.strided_desc((1, N), (N, 1)))
        pd = ctypes.c_void_p()
        dnn.check(lib.dnnl_matmul_primitive_desc_create(
            ctypes.byref(pd), dnn.engine, self.mds[0], self.mds[1],
            self.mds[3] if has_bias else None, self.mds[2], None),
            f"matmul ({M}, {K}) x ({K}, {N})")
        self.pd = pd
        self.primitive = dnn.primitive(pd)
        self.mems = [dnn.memory(md) for md in self.mds]
        a = dnn.ARG
        ids = (a["src"], a["weights"], a["dst"], a["bias"])[:len(self.mems)]
        self.args = (dnn.ExecArg * len(ids))(*[dnn.ExecArg(i, m.value)
                                               for i, m in zip(ids, self.mems)])

    def run(self, arrays):
        lib = dnn.library()
        for mem, arr in zip(self.mems, arrays):
            lib.dnnl_memory_set_data_handle(mem, arr.ctypes.data)
        dnn.check(lib.dnnl_primitive_execute(self.primitive, dnn.stream, len(self.args),
                                             self.args), "matmul")
        dnn.check(lib.dnnl_stream_wait(dnn.stream), "stream wait")

    def __del__(self):
        # an evicted plan (a batch size no longer used) frees its C objects (getattr: a plan
        # whose making failed half-way has only some of them)
        lib = dnn.library()
        if not lib:
            return
        if getattr(self, "primitive", None) is not None:
            lib.dnnl_primitive_destroy(self.primitive)
        if getattr(self, "pd", None) is not None:
            lib.dnnl_primitive_desc_destroy(self.pd)
        for mem in getattr(self, "mems", ()):
            lib.dnnl_memory_destroy(mem)
        for md in getattr(self, "mds", ()):
            lib.dnnl_memory_desc_destroy(md)


# (M, K, N, x strides, W strides, bias) -> _Plan
_PLANS = dnn.Plans(_Plan, limit=64)


def forward(x2, weight, bias):
    """``x2 @ weight.T + bias``, a new (M, N) float32 array, for arguments that ``applies``
    accepts."""
    M, K = x2.shape
    N = weight.shape[0]
    if bias is not None and not bias.flags.c_contiguous:
        bias = np.ascontiguousarray(bias)
    y = np.empty((M, N), np.float32)
    key = (M, K, N, _element_strides(x2), _element_strides(weight), bias is not None)
    arrays = (x2, weight, y) if bias is None else (x2, weight, y, bias)
    with _PLANS.lock:
        _PLANS.plan(key).run(arrays)
    return y


def warm_up():
    """Page in the matmul's code and make its first kernels now (a one-time cost of a process,
    about 4 MB), rather than inside the first step that runs a product here; False when
    oneDNN is unavailable."""
    if not (dnn.enabled and dnn.is_available()):
        return False
    x = np.ones((64, 4096), np.float32)
    for bias in (None, np.ones(64, np.float32)):
        forward(x, x[:64], bias)
    with _PLANS.lock:
        for key in [k for k in _PLANS if k[:3] == (64, 4096, 64)]:
            del _PLANS[key]
    return True
