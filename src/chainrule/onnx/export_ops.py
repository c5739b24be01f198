"""ONNX nodes for chainrule's ops, one converter per op class: ``convert(g, out, *args)`` gets
the op's ``apply`` arguments (tensors, numbers, tuples) and its output tensor, adds nodes to the
GraphBuilder ``g`` and binds ``out`` to the value that holds it.

Shapes in the trace are concrete; a reshape keeps its leading dimensions that equal the input's
as ONNX's 0 ("copy this dimension") so the batch size stays dynamic.
"""
import math

import numpy as np
from onnx import helper

from ..autograd.tensor_base import TensorBase
from ..ops import activation, elementwise, indexing, linalg, linear, reduction, shape
from .graph import INT64_MAX, INT64_MIN, UnsupportedOperatorError

CONVERTERS = {}


def converts(*ops):
    def register(fn):
        for op in ops:
            CONVERTERS[op] = fn
            if op.reference is not None:
                CONVERTERS[op.reference] = fn
        return fn
    return register


def converter_for(op_class):
    for cls in op_class.__mro__:
        if cls in CONVERTERS:
            return CONVERTERS[cls]
    return None


def _unary(onnx_op, **attrs):
    def convert(g, out, a, *_):
        g.bind(out, g.node(onnx_op, [g.value(a, onnx_op)], **attrs))
    return convert


for _op, _onnx in [(activation.Tanh, "Tanh"), (activation.Sigmoid, "Sigmoid"),
                   (activation.ReLU, "Relu"), (activation.SELU, "Selu"),
                   (activation.Softsign, "Softsign"), (activation.Hardswish, "HardSwish"),
                   (elementwise.Neg, "Neg"), (elementwise.Exp, "Exp"), (elementwise.Log, "Log"),
                   (elementwise.Sqrt, "Sqrt"), (elementwise.Abs, "Abs"),
                   (elementwise.Sign, "Sign"), (elementwise.Sin, "Sin"), (elementwise.Cos, "Cos"),
                   (elementwise.Reciprocal, "Reciprocal"), (elementwise.Copy, "Identity")]:
    converts(_op)(_unary(_onnx))
converts(activation.Hardsigmoid)(_unary("HardSigmoid", alpha=1 / 6, beta=0.5))


def _binary(onnx_op):
    def convert(g, out, a, b):
        dtype = out.array.dtype
        g.bind(out, g.node(onnx_op, [g.operand(a, dtype, onnx_op), g.operand(b, dtype, onnx_op)]))
    return convert


for _op, _onnx in [(elementwise.Add, "Add"), (elementwise.Sub, "Sub"), (elementwise.Mul, "Mul"),
                   (elementwise.Div, "Div"), (elementwise.Maximum, "Max"),
                   (elementwise.Minimum, "Min"), (elementwise.Pow, "Pow"),
                   (linalg.MatMul, "MatMul")]:
    converts(_op)(_binary(_onnx))


def _scalar(g, value, like):
    return g.const(np.asarray(value, dtype=like.array.dtype), "scalar")


@converts(elementwise.Square)
def _square(g, out, a):
    x = g.value(a)
    g.bind(out, g.node("Mul", [x, x]))


@converts(elementwise.Rsqrt)
def _rsqrt(g, out, a):
    g.bind(out, g.node("Reciprocal", [g.node("Sqrt", [g.value(a)])]))


@converts(elementwise.Log1p)
def _log1p(g, out, a):
    g.bind(out, g.node("Log", [g.node("Add", [g.value(a), _scalar(g, 1, a)])]))


@converts(elementwise.Expm1)
def _expm1(g, out, a):
    g.bind(out, g.node("Sub", [g.node("Exp", [g.value(a)]), _scalar(g, 1, a)]))


@converts(elementwise.Clamp, activation.Hardtanh)
def _clip(g, out, a, lo, hi):
    bounds = ["" if v is None else _scalar(g, v, a) for v in (lo, hi)]
    g.bind(out, g.node("Clip", [g.value(a, "clamp")] + bounds))


@converts(elementwise.Cast)
def _cast(g, out, a, np_dtype):
    to = helper.np_dtype_to_tensor_dtype(np.dtype(np_dtype))
    g.bind(out, g.node("Cast", [g.value(a)], to=to))


@converts(activation.LeakyReLU)
def _leaky_relu(g, out, a, slope):
    g.bind(out, g.node("LeakyRelu", [g.value(a)], alpha=float(slope)))


@converts(activation.ELU)
def _elu(g, out, a, alpha):
    g.bind(out, g.node("Elu", [g.value(a)], alpha=float(alpha)))


@converts(activation.Softplus)
def _softplus(g, out, a, beta, threshold):
    # softplus(x) = log(1 + exp(beta x)) / beta, and x itself where beta x > threshold
    x = g.value(a)
    scaled = x if beta == 1 else g.node("Mul", [x, _scalar(g, beta, a)])
    soft = g.node("Softplus", [scaled])
    if beta != 1:
        soft = g.node("Div", [soft, _scalar(g, beta, a)])
    linear_part = g.node("Greater", [scaled, _scalar(g, threshold, a)])
    g.bind(out, g.node("Where", [linear_part, x, soft]))


@converts(activation.GELU)
def _gelu(g, out, a, approximate):
    x = g.value(a)
    if approximate == "tanh":
        # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = g.node("Mul", [g.node("Mul", [x, x]), x])
        inner = g.node("Add", [x, g.node("Mul", [cube, _scalar(g, 0.044715, a)])])
        t = g.node("Tanh", [g.node("Mul", [inner, _scalar(g, math.sqrt(2 / math.pi), a)])])
    else:
        # 0.5 x (1 + erf(x / sqrt 2))
        t = g.node("Erf", [g.node("Div", [x, _scalar(g, math.sqrt(2), a)])])
    half_x = g.node("Mul", [x, _scalar(g, 0.5, a)])
    g.bind(out, g.node("Mul", [half_x, g.node("Add", [t, _scalar(g, 1, a)])]))


@converts(activation.SiLU)
def _silu(g, out, a):
    x = g.value(a)
    g.bind(out, g.node("Mul", [x, g.node("Sigmoid", [x])]))


@converts(activation.Mish)
def _mish(g, out, a):
    x = g.value(a)
    g.bind(out, g.node("Mul", [x, g.node("Tanh", [g.node("Softplus", [x])])]))


@converts(activation.PReLU)
def _prelu(g, out, a, w):
    # PyTorch's weight runs along dim 1; ONNX broadcasts the slope from the right
    slope = w.array.reshape(w.array.shape + (1,) * max(a.ndim - 2, 0)) if a.ndim > 1 else w.array
    g.bind(out, g.node("PRelu", [g.value(a), g.const(slope, "prelu_slope")]))


@converts(activation.Softmax)
def _softmax(g, out, a, dim):
    g.bind(out, g.node("Softmax", [g.value(a)], axis=int(dim)))


@converts(activation.LogSoftmax)
def _log_softmax(g, out, a, dim):
    g.bind(out, g.node("LogSoftmax", [g.value(a)], axis=int(dim)))


@converts(linear.Linear)
def _linear(g, out, x, weight, bias):
    if x.ndim == 2:
        inputs = [g.value(x), g.value(weight)] + ([g.value(bias)] if bias is not None else [])
        g.bind(out, g.node("Gemm", inputs, transB=1))
        return
    y = g.node("MatMul", [g.value(x), g.node("Transpose", [g.value(weight)], perm=[1, 0])])
    g.bind(out, y if bias is None else g.node("Add", [y, g.value(bias)]))


@converts(shape.Reshape)
def _reshape(g, out, a, target):
    target = [int(n) for n in target]
    for i, (n, m) in enumerate(zip(target, a.shape)):
        if n != m:
            break
        target[i] = 0     # copy the input's dimension: keeps a dynamic batch size dynamic
    g.bind(out, g.node("Reshape", [g.value(a, "reshape"), g.ints(target, "shape")]))


@converts(shape.Permute)
def _permute(g, out, a, dims):
    g.bind(out, g.node("Transpose", [g.value(a)], perm=[int(d) % a.ndim for d in dims]))


@converts(shape.Transpose)
def _transpose(g, out, a, d0, d1):
    perm = list(range(a.ndim))
    perm[d0], perm[d1] = perm[d1], perm[d0]
    g.bind(out, g.node("Transpose", [g.value(a)], perm=perm))


@converts(shape.Cat)
def _cat(g, out, dim, *tensors):
    g.bind(out, g.node("Concat", [g.value(t, "cat") for t in tensors], axis=int(dim)))


@converts(shape.Stack)
def _stack(g, out, dim, *tensors):
    axes = g.ints([dim])
    parts = [g.node("Unsqueeze", [g.value(t, "stack"), axes]) for t in tensors]
    g.bind(out, g.node("Concat", parts, axis=int(dim)))


def _reduce(onnx_op, axes_as_input_since):
    def convert(g, out, a, dims, keepdim):
        x = g.value(a, onnx_op)
        axes = [int(d) for d in dims]
        if g.opset >= axes_as_input_since:
            y = g.node(onnx_op, [x, g.ints(axes, "axes")], keepdims=int(bool(keepdim)))
        else:
            y = g.node(onnx_op, [x], axes=axes, keepdims=int(bool(keepdim)))
        g.bind(out, y)
    return convert


converts(reduction.Sum)(_reduce("ReduceSum", 13))
converts(reduction.Mean)(_reduce("ReduceMean", 18))


@converts(indexing.GetItem)
def _getitem(g, out, a, index):
    index = index if isinstance(index, tuple) else (index,)
    if any(isinstance(i, (np.ndarray, list, TensorBase)) for i in index):
        raise UnsupportedOperatorError("onnx.export: indexing with an array of indices (advanced "
                                       "indexing) has no ONNX export yet; use index_select")
    if Ellipsis in index:
        at = index.index(Ellipsis)
        fill = a.ndim - sum(1 for i in index if i is not None and i is not Ellipsis)
        index = index[:at] + (slice(None),) * fill + index[at + 1:]
    x, axis = g.value(a, "indexing"), 0
    for item in index:
        if item is None:
            x = g.node("Unsqueeze", [x, g.ints([axis])])
            axis += 1
        elif isinstance(item, slice):
            if item != slice(None):
                step = 1 if item.step is None else int(item.step)
                start = item.start if item.start is not None else (0 if step > 0 else INT64_MAX)
                stop = item.stop if item.stop is not None else (INT64_MAX if step > 0
                                                                else INT64_MIN)
                x = g.node("Slice", [x, g.ints([start]), g.ints([stop]), g.ints([axis]),
                                     g.ints([step])])
            axis += 1
        else:
            x = g.node("Gather", [x, g.const(np.asarray(int(item), dtype=np.int64), "index")],
                       axis=axis)
    g.bind(out, g.node("Identity", [x]) if x == g.values.get(id(a)) else x)
