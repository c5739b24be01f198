"""ONNX nodes for whole modules, where the module's own attributes say more than its ops do
(convolution geometry, pooling, normalisation) or where ONNX has the layer as one operator
(LSTM, GRU, RNN). ``convert(g, module, args, kwargs, out)`` binds the module's output tensors.
"""
import numpy as np

from .. import nn
from .graph import UnsupportedOperatorError

CONVERTERS = {}


def converts(*classes):
    def register(fn):
        for cls in classes:
            CONVERTERS[cls] = fn
        return fn
    return register


def converter_for(module):
    for cls in type(module).__mro__:
        if cls in CONVERTERS:
            return CONVERTERS[cls]
    return None


def refuse(module, what):
    raise UnsupportedOperatorError(f"onnx.export: {type(module).__name__} with {what} has no "
                                   f"ONNX export yet")


def _tuple(v, n):
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


def _conv_pads(module, n):
    if module.padding == "valid":
        return [0] * 2 * n
    if module.padding == "same":
        total = [d * (k - 1) for d, k in zip(module.dilation, module.kernel_size)]
        return [t // 2 for t in total] + [t - t // 2 for t in total]
    return list(module.padding) * 2


@converts(nn.Conv1d, nn.Conv2d, nn.ConvTranspose1d, nn.ConvTranspose2d)
def _conv(g, m, args, kwargs, out):
    if m.padding_mode != "zeros":
        refuse(m, f"padding_mode={m.padding_mode!r}")
    if len(args) > 1 or kwargs:
        refuse(m, "an output_size argument")
    n = len(m.kernel_size)
    inputs = [g.value(args[0], type(m).__name__), g.value(m.weight)]
    if m.bias is not None:
        inputs.append(g.value(m.bias))
    attrs = dict(kernel_shape=list(m.kernel_size), strides=list(m.stride), group=m.groups,
                 dilations=list(m.dilation), pads=_conv_pads(m, n))
    if m.transposed:
        attrs["output_padding"] = list(m.output_padding)
    g.bind(out, g.node("ConvTranspose" if m.transposed else "Conv", inputs, **attrs))


def _pool_attrs(m, n):
    kernel = _tuple(m.kernel_size, n)
    return dict(kernel_shape=list(kernel), strides=list(_tuple(m.stride, n)),
                pads=list(_tuple(m.padding, n)) * 2, ceil_mode=int(bool(m.ceil_mode)))


@converts(nn.MaxPool1d, nn.MaxPool2d)
def _max_pool(g, m, args, kwargs, out):
    if m.return_indices:
        refuse(m, "return_indices=True")
    n = 1 if isinstance(m, nn.MaxPool1d) else 2
    g.bind(out, g.node("MaxPool", [g.value(args[0])], dilations=list(_tuple(m.dilation, n)),
                       **_pool_attrs(m, n)))


@converts(nn.AvgPool1d, nn.AvgPool2d)
def _avg_pool(g, m, args, kwargs, out):
    if getattr(m, "divisor_override", None):
        refuse(m, "divisor_override")
    n = 1 if isinstance(m, nn.AvgPool1d) else 2
    g.bind(out, g.node("AveragePool", [g.value(args[0])],
                       count_include_pad=int(bool(m.count_include_pad)), **_pool_attrs(m, n)))


@converts(nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d)
def _adaptive_avg_pool(g, m, args, kwargs, out):
    x = args[0]
    n = 1 if isinstance(m, nn.AdaptiveAvgPool1d) else 2
    spatial = x.shape[-n:]
    size = tuple(d if s is None else s for d, s in zip(spatial, _tuple(m.output_size, n)))
    if all(s == 1 for s in size):
        g.bind(out, g.node("GlobalAveragePool", [g.value(x)]))
        return
    if any(d % s for d, s in zip(spatial, size)):
        refuse(m, f"output_size {size} that does not divide the input's {tuple(spatial)}")
    kernel = [d // s for d, s in zip(spatial, size)]
    g.bind(out, g.node("AveragePool", [g.value(x)], kernel_shape=kernel, strides=kernel))


@converts(nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d)
def _batch_norm(g, m, args, kwargs, out):
    if m.training or m.running_mean is None:
        refuse(m, "batch statistics (training mode or track_running_stats=False)")
    c = m.num_features
    dtype = m.running_mean.array.dtype
    scale = g.value(m.weight) if m.weight is not None else g.const(np.ones(c, dtype), "ones")
    bias = g.value(m.bias) if m.bias is not None else g.const(np.zeros(c, dtype), "zeros")
    g.bind(out, g.node("BatchNormalization", [g.value(args[0]), scale, bias,
                                              g.value(m.running_mean), g.value(m.running_var)],
                       epsilon=float(m.eps)))


@converts(nn.LayerNorm)
def _layer_norm(g, m, args, kwargs, out):
    if g.opset < 17:
        refuse(m, f"opset {g.opset} (LayerNormalization needs opset 17 or later)")
    shape = m.normalized_shape
    dtype = args[0].array.dtype
    weight = getattr(m, "weight", None)
    bias = getattr(m, "bias", None)
    scale = g.value(weight) if weight is not None else g.const(np.ones(shape, dtype), "ones")
    inputs = [g.value(args[0]), scale]
    if bias is not None:
        inputs.append(g.value(bias))
    g.bind(out, g.node("LayerNormalization", inputs, axis=-len(shape), epsilon=float(m.eps)))


@converts(nn.Embedding)
def _embedding(g, m, args, kwargs, out):
    if m.max_norm is not None:
        refuse(m, "max_norm")
    g.bind(out, g.node("Gather", [g.value(m.weight), g.value(args[0], "Embedding")], axis=0))


@converts(nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d)
def _dropout(g, m, args, kwargs, out):
    if m.training:
        refuse(m, "training mode")
    g.bind(out, g.node("Identity", [g.value(args[0])]))


@converts(nn.Upsample)
def _upsample(g, m, args, kwargs, out):
    # nearest: output index i reads input floor(i / scale), ONNX's "asymmetric" + "floor"
    x = args[0]
    if m.mode != "nearest":
        refuse(m, f"mode={m.mode!r}")
    n = x.ndim - 2
    if m.scale_factor is not None:
        scales = [1.0, 1.0] + list(_tuple(m.scale_factor, n))
        inputs = [g.value(x), "", g.const(np.asarray(scales, np.float32), "scales")]
    else:
        # a fixed output size: batch and channels are copied from the input at run time
        shape = g.node("Shape", [g.value(x)])
        head = g.node("Slice", [shape, g.ints([0]), g.ints([2])])
        sizes = g.node("Concat", [head, g.ints(list(_tuple(m.size, n)))], axis=0)
        inputs = [g.value(x), "", "", sizes]
    g.bind(out, g.node("Resize", inputs, mode="nearest",
                       coordinate_transformation_mode="asymmetric", nearest_mode="floor"))
