"""The affine map of ``nn.Linear`` as one op: y = x W^T + b, forward and backward side by side."""
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


_ndarray, _empty, _zeros = np.ndarray, np.empty, np.zeros     # the kernels' host arrays
# An x of at most this many rows takes the ``row_products`` kernel (one request at a time, W6 at
# batch 1), where NumPy's product runs matrix-vector products on one core
ROW_PRODUCT_ROWS = 4


def _row_products(x2, weight, bias, relu=False):
    """``x2 W^T + b`` (relu'd with ``relu``) by the ``row_products`` kernel, W's rows over the
    threads, where it applies: at most ``ROW_PRODUCT_ROWS`` rows, C-contiguous float host
    arrays of one dtype. None where it does not."""
    # the tests in the order that rejects a batch soonest (this runs for every Linear call)
    if (x2.shape[0] > ROW_PRODUCT_ROWS or type(x2) is not _ndarray or type(weight) is not _ndarray
            or not x2.shape[1]):
        return None
    dtype = x2.dtype
    if (weight.dtype != dtype or dtype not in kernels.DTYPES or not x2.flags.c_contiguous
            or not weight.flags.c_contiguous
            or bias is not None and (type(bias) is not _ndarray or bias.dtype != dtype
                                     or bias.ndim != 1 or not bias.flags.c_contiguous)):
        return None
    # the parallel build pays from about twice the elements an elementwise pass needs
    # (measured at batch 1: 256 x 256 weights 3.0 us serial, 3.8 us on two threads)
    kernel = kernels.get_lazily("row_products", x2.shape[0] * weight.size // 2)
    if kernel is None:
        return None
    y = _empty((x2.shape[0], weight.shape[0]), dtype)
    kernel(x2, weight, _zeros(weight.shape[0], dtype) if bias is None else bias, y, relu)
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
    single matrix multiplication, and the bias is added in place.
    """

    reference = LinearReference

    @staticmethod
    def forward(ctx, x, weight, bias):
        if x.ndim == 2:
            x2 = x
            lead = None     # a batch of rows as it is: nothing to reshape back
        else:
            lead = x.shape[:-1]
            x2 = x.reshape(-1, x.shape[-1])
        product = _product(x2.shape[0], weight)
        # the bias added inside the product where a fast path takes it, else in place after
        y = _row_products(x2, weight, bias)
        if y is None and onednn_matmul.applies(x2, weight, bias):
            y = onednn_matmul.forward(x2, weight, bias)
        if y is None:
            y = product(x2, weight.T)
            if bias is not None:
                if y.size < kernels.PARALLEL_MIN:    # tested here: a small layer's add in place
                    y += bias
                else:
                    _add_bias(y, bias)
        ctx.x2, ctx.weight, ctx.lead, ctx.product = x2, weight, lead, product
        return y if lead is None else y.reshape(lead + (weight.shape[0],))

    @staticmethod
    def backward(ctx, g):
        need = ctx.needs_input_grad
        lead = ctx.lead
        g2 = g if lead is None else g.reshape(-1, g.shape[-1])
        gx = gw = gb = None
        if need[0]:
            gx = ctx.product(g2, ctx.weight)
            if lead is not None and len(lead) != 1:
                gx = gx.reshape(lead + (ctx.weight.shape[1],))
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
