"""The affine map of ``nn.Linear`` as one op: y = x W^T + b, forward and backward side by side."""
import operator

import numpy as np

from .. import kernels
from ..backend import xp
from ..kernels import blas, onednn_matmul
from .activation import ReLU
from .base import Op


def _add_bias(y, bias):
    """y += bias, by the ``bias_add`` kernel (its rows on every core, bit-equal) where it
    applies, else NumPy's in-place add; for outputs of ``kernels.PARALLEL_MIN`` entries and up."""
    kernel = kernels.get("bias_add", y.size)
    if (kernel is not None and y.dtype == bias.dtype and y.dtype in kernels.DTYPES
            and bias.ndim == 1 and kernels.on_host(y, bias) and y.flags.c_contiguous
            and bias.flags.c_contiguous):
        kernel(y, bias)
    else:
        y += bias


def _product(rows, weight):
    """The product a Linear of ``rows`` input rows uses for its three products (y, dL/dx,
    dL/dW, the same multiply-adds): ``blas.matmul`` from its threshold, else the array
    module's (a small layer skips blas.matmul's own test: W1, 3 us of a 100 us step); not ``@``,
    since bench --profile counts these calls."""
    return blas.matmul if rows * weight.size >= blas.MIN_MULTIPLY_ADDS else xp.matmul


# the kernels' host arrays and dtypes (a native float32 or float64 array's dtype is one of these)
_ndarray, _empty, _zeros = np.ndarray, np.empty, np.zeros
_FLOAT32, _FLOAT64 = np.dtype(np.float32), np.dtype(np.float64)
_is = operator.is_
# An x of at most this many rows takes the ``row_products`` kernel (one request at a time, W6 at
# batch 1), where NumPy's product runs matrix-vector products on one core
ROW_PRODUCT_ROWS = 4


def _row_ready(weight, bias, dtype, k):
    """Whether a layer's weight (N, k) and bias (N,) or None are C-contiguous host arrays of
    ``dtype``, as ``row_products`` takes them (tested for every call: kept to the cheapest
    tests)."""
    return (type(weight) is _ndarray and weight.dtype is dtype and weight.flags.c_contiguous
            and weight.shape[1] == k
            and (bias is None or type(bias) is _ndarray and bias.dtype is dtype
                 and bias.flags.c_contiguous and bias.shape == (weight.shape[0],)))


def _rows_ready(x2):
    """The dtype of an x2 that ``row_products`` takes (at most ``ROW_PRODUCT_ROWS`` rows of a
    C-contiguous float32/float64 host array), else None."""
    dtype = x2.dtype
    if (x2.shape[0] > ROW_PRODUCT_ROWS or type(x2) is not _ndarray
            or dtype is not _FLOAT32 and dtype is not _FLOAT64 or not x2.flags.c_contiguous):
        return None
    return dtype


# A smaller product keeps NumPy's: whether the kernel runs must depend on the shapes alone, not
# on whether something else loaded Numba (its sums round differently from BLAS's), and a small
# model should not load Numba (0.3 s and 100 MB once) for a microsecond a call
ROW_PRODUCT_MIN = 1 << 11


def _row_kernel(rows, weight):
    """The ``row_products`` build for ``rows`` x ``weight``, None where NumPy's product serves
    (fewer than ``ROW_PRODUCT_MIN`` multiply-adds, or no kernels)."""
    multiply_adds = rows * weight.size
    if multiply_adds < ROW_PRODUCT_MIN:
        return None
    # the parallel build pays from about twice the elements an elementwise pass needs
    # (measured at batch 1: 256 x 256 weights 3.0 us serial, 3.8 us on two threads)
    return kernels.get("row_products", multiply_adds // 2)


def _row_products(x2, weight, bias, relu=False):
    """``x2 W^T + b`` (relu'd with ``relu``) by the ``row_products`` kernel, W's rows over the
    threads, where it applies (``_rows_ready``, ``_row_ready``); None where it does not."""
    dtype = _rows_ready(x2)
    if dtype is None or not _row_ready(weight, bias, dtype, x2.shape[1]):
        return None
    kernel = _row_kernel(x2.shape[0], weight)
    if kernel is None:
        return None
    return _run_row_kernel(kernel, x2, weight, _kernel_bias(weight, bias, dtype), relu)


def _kernel_bias(weight, bias, dtype):
    """The bias as ``row_products`` reads it: zeros for a layer without one."""
    return _zeros(weight.shape[0], dtype) if bias is None else bias


def _run_row_kernel(kernel, x2, weight, bias, relu):
    y = _empty((x2.shape[0], weight.shape[0]), x2.dtype)
    kernel(x2, weight, bias, y, relu)
    return y


class LinearReference(Op):
    """y = x W^T + b  (x: (..., in), W: (out, in), b: (out,)).

    dL/dx = g W,  dL/dW = g^T x,  dL/db = sum of g, the sums running over every leading
    position of x (none for a 1-d x, whose dL/dW is the outer product g x^T).
    """

    @staticmethod
    def forward(ctx, x, weight, bias):
        ctx.x, ctx.weight = x, weight
        y = xp.matmul(x, weight.T)
        if bias is not None:
            y = y + bias
        return y

    @staticmethod
    def backward(ctx, g):
        x, weight = ctx.x, ctx.weight
        need = ctx.needs_input_grad
        lead = tuple(range(g.ndim - 1))
        gx = xp.matmul(g, weight) if need[0] else None
        gw = xp.tensordot(g, x, axes=(lead, lead)) if need[1] else None
        gb = g.sum(axis=lead) if need[2] else None
        return gx, gw, gb


class Linear(Op):
    """y = x W^T + b  (x: (..., in), W: (out, in), b: (out,)).

    dL/dx = g W,  dL/dW = g^T x,  dL/db = sum over rows of g.
    Fast path: the leading dimensions of x are flattened into one so that each product is a
    single matrix multiplication, and the bias is added in place; an x of a few rows takes the
    ``row_products`` kernel, and a large float32 forward that no gradient will follow takes
    oneDNN's matmul, both adding the bias as they write.
    """

    reference = LinearReference

    @staticmethod
    def forward(ctx, x, weight, bias):
        swap = False
        if x.ndim == 2:
            x2 = x
            lead = None     # a batch of rows as it is: nothing to reshape back
        else:
            # a batch-first view of a time-major array (an LSTM's output): its rows are taken in
            # memory order, and y is the same view of the product's rows, rather than a copy
            swap = (x.ndim == 3 and not x.flags.c_contiguous
                    and x.transpose(1, 0, 2).flags.c_contiguous)
            rows = x.transpose(1, 0, 2) if swap else x
            lead = rows.shape[:-1]
            x2 = rows.reshape(-1, x.shape[-1])
        product = _product(x2.shape[0], weight)
        # the bias added inside the product where a fast path takes it, else in place after
        y = None
        if x2.shape[0] <= ROW_PRODUCT_ROWS:
            y = _row_products(x2, weight, bias)
        elif (product is blas.matmul      # as large as oneDNN's threshold too: ask it
              and onednn_matmul.applies(x2, weight, bias) and not any(ctx.needs_input_grad)):
            # inference only: in training the backward's products run on MKL, and moving the
            # forward's between the two libraries' thread pools cost W3 1 % a step
            y = onednn_matmul.forward(x2, weight, bias)
        if y is None:
            y = product(x2, weight.T)
            if bias is not None:
                if y.size < kernels.PARALLEL_MIN:    # tested here: a small layer's add in place
                    y += bias
                else:
                    _add_bias(y, bias)
        ctx.x2, ctx.weight, ctx.lead, ctx.product, ctx.swap = x2, weight, lead, product, swap
        if lead is None:
            return y
        y = y.reshape(lead + (weight.shape[0],))
        return y.transpose(1, 0, 2) if swap else y

    @staticmethod
    def backward(ctx, g):
        need = ctx.needs_input_grad
        lead, swap = ctx.lead, ctx.swap
        if lead is None:
            g2 = g
        else:           # g's rows in the order of x2's (the forward's memory order)
            g2 = (g.transpose(1, 0, 2) if swap else g).reshape(-1, g.shape[-1])
        gx = gw = gb = None
        if need[0]:
            gx = ctx.product(g2, ctx.weight)
            if lead is not None and len(lead) != 1:
                gx = gx.reshape(lead + (ctx.weight.shape[1],))
                if swap:
                    gx = gx.transpose(1, 0, 2)
        if need[1]:
            gw = ctx.product(g2.T, ctx.x2)
        if need[2]:
            gb = g2.sum(axis=0)
        return gx, gw, gb


def linear_relu(x, weight, bias):
    """``relu(x W^T + b)`` for a compiled inference replay (``tracing/codegen.py``), where a
    Linear's output goes only to a ReLU: ``Linear``'s product, then the bias and the ReLU in one
    pass over the output in place (``kernels.bias_relu``), where ``Linear.forward`` and
    ``ReLU.forward`` make two passes and a second array (a product on oneDNN adds its own bias:
    then only the ReLU's pass is left, in place). The values are theirs, bit for bit; the two
    ops themselves run where the fused pass does not apply."""
    if x.ndim == 2 and (y := _row_products(x, weight, bias, relu=True)) is not None:
        return y
    if onednn_matmul.applies(x, weight, bias):
        y = onednn_matmul.forward(x, weight, bias)      # the bias added in the product
        kernel = kernels.get_lazily("relu_forward", y.size)
        if kernel is None:
            return ReLU.forward(ReLU.__new__(ReLU), y)
        flat = y.reshape(-1)
        kernel(flat, flat)
        return y
    kernel = (kernels.get_lazily("bias_relu", x.shape[0] * weight.shape[0])
              if x.ndim == 2 and bias is not None and type(x) is xp.ndarray and bias.ndim == 1
              else None)
    if kernel is not None:
        y = _product(x.shape[0], weight)(x, weight.T)
        if (y.dtype == bias.dtype and y.dtype in kernels.DTYPES and y.flags.c_contiguous
                and type(y) is xp.ndarray and bias.flags.c_contiguous):
            kernel(y, bias)
            return y
        _add_bias(y, bias)
        return ReLU.forward(ReLU.__new__(ReLU), y)
    y = Linear.forward(Linear.__new__(Linear), x, weight, bias)
    return ReLU.forward(ReLU.__new__(ReLU), y)


class LinearChain:
    """A run of Linear layers, each but maybe the last followed by a ReLU (``relus[i]``), as one
    call of a compiled inference replay (``tracing/codegen.py``, one object per run):
    ``chain(x, w1, b1, w2, b2, ...)``. An input of a few rows goes straight from one
    ``row_products`` kernel to the next; anything else runs each layer by ``linear_relu`` or
    ``Linear``. The values are those of the Linear and ReLU ops, bit for bit.

    A replay passes the same arrays call after call, so the layers are tested (``_row_ready``)
    and their kernels looked up once, into a plan; a later call compares the arrays by identity,
    and the input's rows, dtype and the kernels' switches by value, and runs the plan.
    """

    def __init__(self, relus):
        self.relus = tuple(relus)
        self.params = None      # the weights and biases the plan was made for
        self.made_for = None    # (rows, dtype, kernels.switches()) it was made for
        self.plan = None        # [(kernel, weight, bias, its kernel's bias, relu)], None: ops

    def __call__(self, x, *params):
        dtype = _rows_ready(x) if x.ndim == 2 else None
        if dtype is not None:
            made_for = (x.shape[0], dtype, kernels.switches())
            if (made_for != self.made_for or self.params is None
                    or not all(map(_is, params, self.params))):
                self._make_plan(x, params, made_for)
            if self.plan is not None:
                for kernel, weight, bias, kernel_bias, relu in self.plan:
                    x = (_layer(x, weight, bias, relu) if kernel is None    # too small for it
                         else _run_row_kernel(kernel, x, weight, kernel_bias, relu))
                return x
        for weight, bias, relu in zip(params[::2], params[1::2], self.relus):
            x = _layer(x, weight, bias, relu)
        return x

    def _make_plan(self, x, params, made_for):
        rows, dtype, _ = made_for
        self.params, self.made_for, self.plan = params, made_for, None
        plan, k = [], x.shape[1]
        for weight, bias, relu in zip(params[::2], params[1::2], self.relus):
            if not _row_ready(weight, bias, dtype, k):
                return
            k = weight.shape[0]
            plan.append((_row_kernel(rows, weight), weight, bias,
                         _kernel_bias(weight, bias, dtype), relu))
        # the lookups above may have started the threads: the plan is for the state after them
        self.made_for, self.plan = (rows, dtype, kernels.switches()), plan


def _layer(x, weight, bias, relu):
    """One layer of a ``LinearChain`` as its ops compute it."""
    if relu:
        return linear_relu(x, weight, bias)
    return Linear.forward(Linear.__new__(Linear), x, weight, bias)
