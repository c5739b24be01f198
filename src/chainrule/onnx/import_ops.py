"""Each ONNX operator ``cr.onnx.load`` runs, as chainrule functions: ``op(module, attrs,
*inputs)`` with the node's attributes and input tensors (None for an omitted optional input).
``PREPARE`` holds load-time work for operators that build something once (recurrent layers)."""
import math

import numpy as np
from onnx import helper, numpy_helper

import chainrule as cr
from .. import nn
from ..nn import functional as F
from .graph import UnsupportedOperatorError

OPS = {}
PREPARE = {}


def op(*names):
    def register(fn):
        for name in names:
            OPS[name] = fn
        return fn
    return register


def constant_value(attrs):
    if "value" in attrs:
        return cr.tensor(numpy_helper.to_array(attrs["value"]).copy())
    for key, dtype in (("value_float", np.float32), ("value_int", np.int64),
                       ("value_floats", np.float32), ("value_ints", np.int64)):
        if key in attrs:
            return cr.tensor(np.asarray(attrs[key], dtype=dtype))
    raise UnsupportedOperatorError(f"onnx.load: a Constant node with {sorted(attrs)} is not "
                                   f"supported")


OPS["Constant"] = None   # evaluated once at load time (OnnxModule.__init__)


def ints(t):
    return [int(v) for v in np.asarray(t.numpy() if isinstance(t, cr.Tensor) else t).reshape(-1)]


def _divide(a, b):
    # ONNX divides integers as integers (shape arithmetic: embed_dim / num_heads)
    if not (a.dtype.is_floating_point or b.dtype.is_floating_point):
        return cr.tensor(np.trunc(a.numpy() / b.numpy()).astype(np.result_type(a.numpy(),
                                                                                 b.numpy())))
    return a / b


def _elementwise(fn):
    return lambda m, attrs, *xs: fn(*xs)


for _name, _fn in {"Add": lambda a, b: a + b, "Sub": lambda a, b: a - b,
                   "Mul": lambda a, b: a * b, "Div": lambda a, b: _divide(a, b),
                   "Pow": lambda a, b: a ** b, "MatMul": cr.matmul, "Neg": lambda a: -a,
                   "Exp": cr.exp, "Log": cr.log, "Sqrt": cr.sqrt, "Abs": cr.abs,
                   "Sign": cr.sign, "Sin": cr.sin, "Cos": cr.cos, "Reciprocal": cr.reciprocal,
                   "Tanh": cr.tanh, "Sigmoid": cr.sigmoid, "Relu": F.relu, "Selu": F.selu,
                   "Softsign": F.softsign, "HardSwish": F.hardswish, "Identity": lambda a: a,
                   "Softplus": F.softplus}.items():
    OPS[_name] = _elementwise(_fn)


def _variadic(fn):
    def run(m, attrs, *xs):
        out = xs[0]
        for x in xs[1:]:
            out = fn(out, x)
        return out
    return run


OPS["Max"] = _variadic(cr.maximum)
OPS["Min"] = _variadic(cr.minimum)
OPS["Sum"] = _variadic(lambda a, b: a + b)


@op("LeakyRelu")
def _leaky_relu(m, attrs, x):
    return F.leaky_relu(x, attrs.get("alpha", 0.01))


@op("Elu")
def _elu(m, attrs, x):
    return F.elu(x, attrs.get("alpha", 1.0))


@op("HardSigmoid")
def _hard_sigmoid(m, attrs, x):
    alpha, beta = attrs.get("alpha", 0.2), attrs.get("beta", 0.5)
    if math.isclose(alpha, 1 / 6, rel_tol=1e-6) and beta == 0.5:
        return F.hardsigmoid(x)
    return cr.clamp(x * alpha + beta, 0.0, 1.0)


@op("PRelu")
def _prelu(m, attrs, x, slope):
    return cr.where(x >= 0, x, x * slope)


@op("Clip")
def _clip(m, attrs, x, lo=None, hi=None):
    lo = attrs.get("min") if lo is None else float(lo.item())
    hi = attrs.get("max") if hi is None else float(hi.item())
    return cr.clamp(x, lo, hi)


@op("Where")
def _where(m, attrs, cond, a, b):
    return cr.where(cond, a, b)


OPS["Greater"] = _elementwise(lambda a, b: a > b)
OPS["Less"] = _elementwise(lambda a, b: a < b)
OPS["Equal"] = _elementwise(lambda a, b: a == b)


def _softmax_like(fn):
    def run(m, attrs, x):
        axis = attrs.get("axis", -1 if (m.opset or 13) >= 13 else 1)
        if (m.opset or 13) < 13 and axis % x.ndim != x.ndim - 1:
            raise UnsupportedOperatorError("onnx.load: Softmax before opset 13 over axes other "
                                           "than the last is not supported")
        return fn(x, dim=axis)
    return run


OPS["Softmax"] = _softmax_like(F.softmax)
OPS["LogSoftmax"] = _softmax_like(F.log_softmax)


@op("Gemm")
def _gemm(m, attrs, a, b, c=None):
    a = a.t() if attrs.get("transA") else a
    b = b.t() if attrs.get("transB") else b
    y = (a @ b) * attrs.get("alpha", 1.0) if attrs.get("alpha", 1.0) != 1.0 else a @ b
    if c is not None:
        y = y + (c * attrs["beta"] if attrs.get("beta", 1.0) != 1.0 else c)
    return y


def _spatial_padding(attrs, n, x):
    """ONNX's (begins..., ends...) pads as a symmetric padding, padding x first if uneven."""
    if attrs.get("auto_pad", "NOTSET") not in ("NOTSET", "VALID", b"NOTSET", b"VALID"):
        raise UnsupportedOperatorError(f"onnx.load: auto_pad={attrs['auto_pad']!r} is not "
                                       f"supported")
    pads = list(attrs.get("pads", [0] * 2 * n))
    begins, ends = pads[:n], pads[n:]
    if begins == ends:
        return x, tuple(begins)
    flat = []
    for b, e in zip(reversed(begins), reversed(ends)):
        flat += [b, e]
    return cr.pad(x, flat), (0,) * n


@op("Conv")
def _conv(m, attrs, x, w, b=None):
    n = w.ndim - 2
    x, padding = _spatial_padding(attrs, n, x)
    conv = {1: F.conv1d, 2: F.conv2d}.get(n)
    if conv is None:
        raise UnsupportedOperatorError(f"onnx.load: Conv over {n} spatial dimensions")
    return conv(x, w, b, stride=tuple(attrs.get("strides", [1] * n)), padding=padding,
                dilation=tuple(attrs.get("dilations", [1] * n)), groups=attrs.get("group", 1))


@op("ConvTranspose")
def _conv_transpose(m, attrs, x, w, b=None):
    n = w.ndim - 2
    pads = list(attrs.get("pads", [0] * 2 * n))
    if pads[:n] != pads[n:] or "output_shape" in attrs:
        raise UnsupportedOperatorError("onnx.load: ConvTranspose with uneven pads or "
                                       "output_shape is not supported")
    conv = {1: F.conv_transpose1d, 2: F.conv_transpose2d}[n]
    return conv(x, w, b, stride=tuple(attrs.get("strides", [1] * n)), padding=tuple(pads[:n]),
                output_padding=tuple(attrs.get("output_padding", [0] * n)),
                groups=attrs.get("group", 1), dilation=tuple(attrs.get("dilations", [1] * n)))


def _pool(kind):
    def run(m, attrs, x):
        n = len(attrs["kernel_shape"])
        kernel = tuple(attrs["kernel_shape"])
        x, padding = _spatial_padding(attrs, n, x)
        common = dict(kernel_size=kernel, stride=tuple(attrs.get("strides", [1] * n)),
                      padding=padding, ceil_mode=bool(attrs.get("ceil_mode", 0)))
        if kind == "max":
            fn = {1: F.max_pool1d, 2: F.max_pool2d}[n]
            return fn(x, dilation=tuple(attrs.get("dilations", [1] * n)), **common)
        fn = {1: F.avg_pool1d, 2: F.avg_pool2d}[n]
        return fn(x, count_include_pad=bool(attrs.get("count_include_pad", 0)), **common)
    return run


OPS["MaxPool"] = _pool("max")
OPS["AveragePool"] = _pool("avg")


@op("GlobalAveragePool")
def _global_avg_pool(m, attrs, x):
    return x.mean(dim=tuple(range(2, x.ndim)), keepdim=True)


@op("BatchNormalization")
def _batch_norm(m, attrs, x, scale, bias, mean, var):
    return F.batch_norm(x, mean, var, scale, bias, training=False,
                        eps=attrs.get("epsilon", 1e-5))


@op("LayerNormalization")
def _layer_norm(m, attrs, x, scale, bias=None):
    axis = attrs.get("axis", -1) % x.ndim
    return F.layer_norm(x, tuple(x.shape[axis:]), scale, bias, eps=attrs.get("epsilon", 1e-5))


@op("Flatten")
def _flatten(m, attrs, x):
    axis = attrs.get("axis", 1) % max(x.ndim, 1) if x.ndim else 0
    lead = int(np.prod(x.shape[:axis])) if axis else 1
    return x.reshape(lead, -1)


@op("Reshape")
def _reshape(m, attrs, x, shape):
    target = ints(shape)
    if not attrs.get("allowzero", 0):
        target = [x.shape[i] if n == 0 else n for i, n in enumerate(target)]
    return x.reshape(*target)


@op("Transpose")
def _transpose(m, attrs, x):
    return x.permute(*attrs.get("perm", list(reversed(range(x.ndim)))))


@op("Concat")
def _concat(m, attrs, *xs):
    return cr.cat([x for x in xs if x is not None], dim=attrs["axis"])


def _axes(m, attrs, axes):
    return ints(axes) if axes is not None else list(attrs.get("axes", []))


@op("Unsqueeze")
def _unsqueeze(m, attrs, x, axes=None):
    out = x
    axes = _axes(m, attrs, axes)
    rank = x.ndim + len(axes)
    for a in sorted(a % rank for a in axes):
        out = out.unsqueeze(a)
    return out


@op("Squeeze")
def _squeeze(m, attrs, x, axes=None):
    axes = _axes(m, attrs, axes)
    if not axes:
        return x.squeeze()
    keep = [n for i, n in enumerate(x.shape) if i not in {a % x.ndim for a in axes}]
    return x.reshape(*keep)


@op("Slice")
def _slice(m, attrs, x, starts, ends, axes=None, steps=None):
    starts, ends = ints(starts), ints(ends)
    axes = ints(axes) if axes is not None else list(range(len(starts)))
    steps = ints(steps) if steps is not None else [1] * len(starts)
    index = [slice(None)] * x.ndim
    for s, e, a, st in zip(starts, ends, axes, steps):
        big = np.iinfo(np.int64)
        index[a % x.ndim] = slice(s, None if e >= big.max or (st < 0 and e <= big.min) else e,
                                  st)
        if st < 0:
            raise UnsupportedOperatorError("onnx.load: Slice with a negative step")
    return x[tuple(index)]


@op("Gather")
def _gather(m, attrs, x, indices):
    axis = attrs.get("axis", 0) % x.ndim
    idx = indices.numpy() if isinstance(indices, cr.Tensor) else np.asarray(indices)
    if axis == 0 and x.dtype.is_floating_point and idx.ndim >= 1:
        return F.embedding(indices, x)            # a lookup table: differentiable in x
    flat = cr.tensor(np.where(idx < 0, idx + x.shape[axis], idx).reshape(-1).astype(np.int64))
    picked = x.index_select(axis, flat)
    return picked.reshape(*x.shape[:axis], *idx.shape, *x.shape[axis + 1:])


@op("Shape")
def _shape(m, attrs, x):
    dims = list(x.shape)[attrs.get("start", 0):attrs.get("end", None)]
    return cr.tensor(np.asarray(dims, dtype=np.int64))


@op("Cast")
def _cast(m, attrs, x):
    return x.to(helper.tensor_dtype_to_np_dtype(attrs["to"]))


def _reduce(fn_name, axes_as_input_since):
    def run(m, attrs, x, axes=None):
        axes = (ints(axes) if axes is not None else None) if (m.opset or 18) >= \
            axes_as_input_since else attrs.get("axes")
        keep = bool(attrs.get("keepdims", 1))
        if not axes:
            if attrs.get("noop_with_empty_axes", 0):
                return x
            axes = list(range(x.ndim))
        return getattr(x, fn_name)(dim=tuple(axes), keepdim=keep)
    return run


OPS["ReduceMean"] = _reduce("mean", 18)
OPS["ReduceSum"] = _reduce("sum", 13)


@op("Dropout")
def _dropout(m, attrs, x, *rest):
    return x


@op("Resize")
def _resize(m, attrs, x, roi=None, scales=None, sizes=None):
    mode = attrs.get("mode", b"nearest")
    mode = mode.decode() if isinstance(mode, bytes) else mode
    transform = attrs.get("coordinate_transformation_mode", b"half_pixel")
    transform = transform.decode() if isinstance(transform, bytes) else transform
    size = tuple(ints(sizes)[2:]) if sizes is not None else None
    scale = tuple(float(s) for s in scales.numpy()[2:]) if size is None else None
    if mode == "nearest":
        return F.interpolate(x, size=size, scale_factor=scale, mode="nearest")
    align = transform == "align_corners"
    return F.interpolate(x, size=size, scale_factor=scale, mode="bilinear" if x.ndim == 4
                         else "linear", align_corners=align)


# -- recurrent layers: an nn.RNN/LSTM/GRU built once from W, R, B ---------------------------------
_TORCH_GATE_ORDER = {"LSTM": [0, 2, 3, 1], "GRU": [1, 0, 2], "RNN": [0]}


def _prepare_recurrent(m, node, attrs):
    op_type = node.op_type
    if attrs.get("layout", 0) or attrs.get("clip") is not None or (
            op_type == "GRU" and not attrs.get("linear_before_reset", 0)):
        raise UnsupportedOperatorError(f"onnx.load: {op_type} with layout=1, clip or "
                                       f"linear_before_reset=0 is not supported")
    W, R = (m.take_value(n).detach().numpy() for n in node.input[1:3])
    B = m.take_value(node.input[3]).detach().numpy() \
        if len(node.input) > 3 and node.input[3] else None
    direction = attrs.get("direction", b"forward")
    direction = direction.decode() if isinstance(direction, bytes) else direction
    if direction == "reverse":
        raise UnsupportedOperatorError(f"onnx.load: {op_type} with direction='reverse'")
    hidden = attrs["hidden_size"]
    kind = {"LSTM": nn.LSTM, "GRU": nn.GRU}.get(op_type)
    if kind is None:
        acts = [a.decode() if isinstance(a, bytes) else a
                for a in attrs.get("activations", ["Tanh"])]
        layer = nn.RNN(W.shape[2], hidden, nonlinearity=acts[0].lower(),
                       bidirectional=direction == "bidirectional")
    else:
        layer = kind(W.shape[2], hidden, bidirectional=direction == "bidirectional")
    order = _TORCH_GATE_ORDER[op_type]

    def regate(a):
        blocks = np.split(a, len(order), axis=0)
        return np.concatenate([blocks[i] for i in order], axis=0)
    with cr.no_grad():
        for d, suffix in enumerate(["_l0", "_l0_reverse"][:W.shape[0]]):
            getattr(layer, "weight_ih" + suffix).array[...] = regate(W[d])
            getattr(layer, "weight_hh" + suffix).array[...] = regate(R[d])
            b = B[d] if B is not None else np.zeros(2 * W.shape[1], W.dtype)
            getattr(layer, "bias_ih" + suffix).array[...] = regate(b[:W.shape[1]])
            getattr(layer, "bias_hh" + suffix).array[...] = regate(b[W.shape[1]:])
    name = "".join(c if c.isalnum() else "_" for c in (node.name or op_type)) or op_type
    while hasattr(m, name):
        name += "_"
    m.add_module(name, layer)
    return {"layer": name, "lstm": op_type == "LSTM"}


def _recurrent(m, attrs, x, W, R, B=None, seq_lens=None, h0=None, c0=None, *rest):
    if seq_lens is not None:
        raise UnsupportedOperatorError("onnx.load: recurrent layers with sequence_lens")
    layer = getattr(m, attrs["layer"])
    hx = ((h0, c0) if h0 is not None else None) if attrs["lstm"] else h0
    y, state = layer(x, hx)
    seq, batch = y.shape[0], y.shape[1]
    dirs = 2 if layer.bidirectional else 1
    y = y.reshape(seq, batch, dirs, layer.hidden_size).permute(0, 2, 1, 3)
    return (y,) + tuple(state) if attrs["lstm"] else (y, state)


for _name in ("LSTM", "GRU", "RNN"):
    OPS[_name] = _recurrent
    PREPARE[_name] = _prepare_recurrent


# -- shape arithmetic PyTorch's exporter writes (initial states, head splits) --------------------
@op("ConstantOfShape")
def _constant_of_shape(m, attrs, shape):
    fill = numpy_helper.to_array(attrs["value"]) if "value" in attrs else np.zeros(1, np.float32)
    return cr.tensor(np.full(ints(shape), fill.reshape(-1)[0], dtype=fill.dtype))


@op("Expand")
def _expand(m, attrs, x, shape):
    target = ints(shape)
    rank = max(len(target), x.ndim)
    target = [1] * (rank - len(target)) + target
    have = [1] * (rank - x.ndim) + list(x.shape)
    return x.reshape(*have).expand(*[h if t == 1 else t for h, t in zip(have, target)])


@op("Mod")
def _mod(m, attrs, a, b):
    if attrs.get("fmod", 0):
        raise UnsupportedOperatorError("onnx.load: Mod with fmod=1 is not supported")
    return a % b
